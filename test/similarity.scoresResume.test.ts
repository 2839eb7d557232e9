// Nulls resume from their checkpoint: a null continued from the progress saved after some batch
// equals the uninterrupted null exactly; and a retried scores activity whose earlier attempt saved
// its finished metrics and the next metric's null after k permutations continues from there and
// publishes exactly the scores of an uninterrupted run (its manifest says where it resumed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureDemoFixtures } from '../cli/commands/demo.ts';
import { PAIRS_FILE } from '../activities/layerData.ts';
import { scoreMetric, SCORES_CHECKPOINT, SCORES_FILE, scoresActivity, scoresSpec, type ScoresCheckpoint } from '../activities/scores.ts';
import type { LayerPairInput, PairSide } from '../activities/types.ts';
import { rowsOf } from '../activities/layerData.ts';
import { loadSae } from '../pipelines/sae/index.ts';
import { permutationNull, type NullProgress } from '../pipelines/similarity/permutationNull.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { artifactId } from '../storage/artifactId.ts';
import { writeParquetTable } from '../storage/parquet.ts';
import { produceArtifact } from '../storage/produce.ts';
import { registerSource } from '../storage/sources.ts';
import { openStore, type ArtifactStore } from '../storage/store.ts';
import { encodeTypedJson } from '../storage/typedJson.ts';
import { saeFolder } from './fixtures/saes.ts';
import { relatedPair } from './similarity.data.ts';

const dir = mkdtempSync(join(tmpdir(), 'ufg-scores-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const name of ['svcca', 'rsa', 'cka-debiased'] as const) {
  test(`${name}: a null resumed from the progress after a batch equals the uninterrupted null`, async () => {
    const { x, y } = relatedPair(40, 6, 9, 3);
    const seen: NullProgress[] = [];
    const whole = await permutationNull(MEASURES[name], x, y, { permutations: 150, seed: 9, keepScores: true, onBatch: (p) => void seen.push(p) });
    assert.ok(seen.length >= 2, `several batches: ${seen.length}`);
    assert.deepEqual(seen.at(-1)!.scores, Float64Array.from(whole.nullScores!));
    const mid = seen[Math.floor((seen.length - 1) / 2)]!;
    assert.ok(mid.done > 0 && mid.done < 150);
    const resumed = await permutationNull(MEASURES[name], x, y, { permutations: 150, seed: 9, keepScores: true, resume: mid });
    assert.deepEqual(resumed, whole);
    // What was resumed is really used: altered saved scores change the result.
    const altered = { ...mid, scores: mid.scores.map((v) => v + 1) };
    const wrong = await permutationNull(MEASURES[name], x, y, { permutations: 150, seed: 9, resume: altered });
    assert.notEqual(wrong.nullMean, whole.nullMean);
    await assert.rejects(permutationNull(MEASURES[name], x, y, { permutations: 150, resume: { ...mid, done: mid.done + 1 } }), /cannot resume/);
  });
}

async function layerPair(store: ArtifactStore, fx: string): Promise<{ input: LayerPairInput; pairId: string }> {
  const saePathA = saeFolder(join(fx, 'saes', 'f32', 'modelA-sparsify'), 'sparsify', 0);
  const saePathB = saeFolder(join(fx, 'saes', 'f32', 'modelB-saelens'), 'saelens', 0);
  const saeIdA = (await registerSource(store, saePathA, { kind: 'sae' })).id;
  const saeIdB = (await registerSource(store, saePathB, { kind: 'sae' })).id;
  const saeA = await loadSae(saePathA), saeB = await loadSae(saePathB);
  const n = Math.min(saeA.numFeatures, saeB.numFeatures, 48);
  // Kept pairs: feature i of A with feature (7i mod n) of B.
  const { manifest } = await produceArtifact(store, { stage: 'pairing-test', codeVersion: 'test', params: { n }, inputs: [saeIdA, saeIdB] }, async (writer) => {
    await writer.writeWithPath(PAIRS_FILE, (tmp) =>
      writeParquetTable(tmp, [
        { name: 'feature_a', type: 'INT32', data: Int32Array.from({ length: n }, (_, i) => i) },
        { name: 'feature_b', type: 'INT32', data: Int32Array.from({ length: n }, (_, i) => (7 * i) % n) },
        { name: 'correlation', type: 'DOUBLE', data: new Float64Array(n).fill(0.5) },
      ]),
    );
  });
  const side = (saeId: string, saePath: string, model: string): PairSide => ({ model, layer: 1, extractId: 'unused', saeId, saePath, statsId: 'unused', tokenizerId: 'unused', tokenizerPath: 'unused' });
  const input = {
    sweepId: 'scores-resume',
    a: side(saeIdA, saePathA, 'a'),
    b: side(saeIdB, saePathB, 'b'),
    compat: 'described',
    pairing: {} as LayerPairInput['pairing'],
    similarity: { permutations: 150, seed: 4, metrics: ['rsa', 'svcca', 'cka-debiased'] },
    maxMapPoints: 0,
    heartbeatTimeoutSeconds: 60,
  } as LayerPairInput;
  return { input, pairId: manifest.id };
}

test('a retried scores activity continues its nulls from the saved batch and equals an uninterrupted run', async () => {
  const fx = await ensureDemoFixtures();
  const plain = openStore(join(dir, 'plain'));
  const base = await layerPair(plain, fx);
  const want = await scoresActivity(plain)(base.input, base.pairId);

  const store = openStore(join(dir, 'resumed'));
  const { input, pairId } = await layerPair(store, fx);
  // The attempt that died: RSA finished, SVCCA's null after its first batch, saved as the activity saves them.
  const saeA = await loadSae(input.a.saePath), saeB = await loadSae(input.b.saePath);
  const n = Math.min(saeA.numFeatures, saeB.numFeatures, 48);
  const x = rowsOf({ data: saeA.wDec, rows: saeA.numFeatures, cols: saeA.dIn }, Array.from({ length: n }, (_, i) => i));
  const y = rowsOf({ data: saeB.wDec, rows: saeB.numFeatures, cols: saeB.dIn }, Array.from({ length: n }, (_, i) => (7 * i) % n));
  const opts = { mode: 'described' as const, permutations: 150, seed: 4 };
  const rsa = await scoreMetric('rsa', x, y, opts);
  let first: NullProgress | undefined;
  await scoreMetric('svcca', x, y, { ...opts, onBatch: (p) => void (first ??= p) });
  assert.ok(first && first.done > 0 && first.done < 150, `svcca's null stopped mid-way: ${first?.done}`);
  const begun = await store.begin(artifactId(scoresSpec(input, pairId)), {});
  const state: ScoresCheckpoint = { scores: [rsa], current: first };
  await begun.writer!.writeFile(SCORES_CHECKPOINT, encodeTypedJson(state));
  await begun.writer!.release();

  const got = await scoresActivity(store)(input, pairId);
  assert.equal(got.id, want.id);
  const m = (await store.manifest(got.id))!;
  assert.deepEqual(m.resumedFrom, { unit: 'permutations', done: 150 + first.done, total: 3 * 150 });
  assert.ok(!m.files.some((f) => f.name === SCORES_CHECKPOINT), 'the checkpoint is not published');
  assert.deepEqual(Buffer.from(await store.readFile(got.id, SCORES_FILE)).toString(), Buffer.from(await plain.readFile(want.id, SCORES_FILE)).toString());
  assert.equal((await plain.manifest(want.id))!.resumedFrom, undefined);
});
