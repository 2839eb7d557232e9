// Feature statistics resume from their checkpoint: an attempt that saved its state after k chunks
// and died leaves it in staging; the next attempt continues from chunk k and gives exactly the
// statistics and SAE fit of an uninterrupted run (its manifest says where it resumed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureDemoFixtures } from '../cli/commands/demo.ts';
import { extractActivity, featureStatsActivity, featureStatsSpec, FIT_FILE, STATS_CHECKPOINT, STATS_FILE } from '../activities/extract.ts';
import { tokenizeActivity } from '../activities/prepare.ts';
import { readActivationChunks } from '../pipelines/extract/readActivations.ts';
import { artifactId } from '../storage/artifactId.ts';
import { FeatureStatsAccumulator, loadSae, SaeFitAccumulator } from '../pipelines/sae/index.ts';
import { registerSource } from '../storage/sources.ts';
import { openStore } from '../storage/store.ts';
import { encodeTypedJson } from '../storage/typedJson.ts';
import { saeFolder } from './fixtures/saes.ts';
import { INDEX_FILE } from '../pipelines/extract/layout.ts';

const dir = mkdtempSync(join(tmpdir(), 'ufg-stats-resume-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a retried feature-stats attempt continues from the saved chunk and equals an uninterrupted run', async () => {
  const fx = await ensureDemoFixtures();
  const modelPath = join(fx, 'model-a.onnx'), tokenizerPath = join(fx, 'tokenizer.json'), corpusPath = join(fx, 'corpus.txt');
  const saePath = saeFolder(join(fx, 'saes', 'f32', 'modelA-sparsify'), 'sparsify', 0);
  const reg = async (store: ReturnType<typeof openStore>) => {
    const id = async (p: string, kind: string) => (await registerSource(store, p, { kind })).id;
    const [corpusId, modelId, tokenizerId, saeId] = [await id(corpusPath, 'corpus'), await id(modelPath, 'model'), await id(tokenizerPath, 'tokenizer'), await id(saePath, 'sae')];
    const corpus = { path: corpusPath, textField: 'text', numSamples: 60, maxLength: 32, batchSize: 4, keepSpecialPositions: false };
    const tokens = await tokenizeActivity(store)({ corpusId, tokenizerId, tokenizerPath, corpus });
    const ex = await extractActivity(store)({ modelId, modelPath, tokenizerId, tokenizerPath, tokensId: tokens.id, layers: [1], preset: 'gpt-neox', batchSize: 4, maxLength: 32, chunkTokens: 64, keepSpecialPositions: false });
    return { ex, input: { extractId: ex.id, saeId, saePath, modelId, modelPath, model: 'fixture-a', layer: 1, mode: 'pre' as const, strict: false } };
  };

  const plain = openStore(join(dir, 'plain'));
  const base = await reg(plain);
  const want = await featureStatsActivity(plain)(base.input);

  const store = openStore(join(dir, 'resumed'));
  const { ex, input } = await reg(store);
  assert.ok(ex.numChunks >= 4, `enough chunks to interrupt: ${ex.numChunks}`);
  // The attempt that died: its state after k chunks, saved as the activity saves it.
  const k = 2;
  const sae = await loadSae(saePath);
  const acc = new FeatureStatsAccumulator(sae, { mode: 'pre' });
  const fit = new SaeFitAccumulator(sae);
  let n = 0;
  for await (const m of readActivationChunks((await store.localPath(ex.id, INDEX_FILE)).replace(/\/index\.json$/, ''), 1)) {
    if (n++ === k) break;
    await acc.add(m);
    await fit.add(m);
  }
  const begun = await store.begin(artifactId(featureStatsSpec(input)), {});
  await begun.writer!.writeFile(STATS_CHECKPOINT, encodeTypedJson({ chunks: k, stats: acc.snapshot(), fit: fit.snapshot() }));
  await begun.writer!.release();

  const got = await featureStatsActivity(store)(input);
  assert.equal(got.id, want.id);
  const m = (await store.manifest(got.id))!;
  assert.deepEqual(m.resumedFrom, { unit: 'chunks', done: k, total: ex.numChunks });
  assert.ok(!m.files.some((f) => f.name === STATS_CHECKPOINT), 'the checkpoint is not published');
  assert.deepEqual(got.fit, want.fit);
  assert.deepEqual(Buffer.from(await store.readFile(got.id, STATS_FILE)), Buffer.from(await plain.readFile(want.id, STATS_FILE)));
  assert.deepEqual(Buffer.from(await store.readFile(got.id, FIT_FILE)), Buffer.from(await plain.readFile(want.id, FIT_FILE)));
});
