import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserInputError } from '../pipelines/errors.ts';
import { activationRows, extractActivations, readActivationChunks, readActivationIndex, readTokenTable } from '../pipelines/extract/index.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { loadTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';
import { ensureFixtures, FIXTURE_VOCAB_SIZE, fixtureCorpus, MODEL_A, MODEL_B } from './fixtures/generate.ts';
import { FIXTURE_PLANTED_OPTIONS, plantedUniverse } from './fixtures/planted.ts';
import { buildTinyModel } from './fixtures/tinyModel.ts';

const made: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'ufg-extract-'));
  made.push(d);
  return d;
};
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));
const docs = fixtureCorpus().slice(0, 40);

async function allRows(dir: string, layer: number): Promise<Mat> {
  const parts: Mat[] = [];
  for await (const m of readActivationChunks(dir, layer)) parts.push(m);
  const cols = parts[0]!.cols;
  const data = new Float32Array(parts.reduce((n, m) => n + m.data.length, 0));
  let at = 0;
  for (const m of parts) (data.set(m.data, at), (at += m.data.length));
  return { data, rows: data.length / cols, cols };
}

function userError(re: RegExp) {
  return (e: unknown) => {
    assert.ok(isUserInputError(e), `expected UserInputError, got ${e}`);
    assert.match((e as Error).message, re);
    return true;
  };
}

test('extraction: every real token once (no padding), right ids/docs/positions, embeddings at layer 0', async () => {
  const fx = await ensureFixtures();
  const tapCacheDir = await tmp();
  const out = await tmp();
  const cursors: number[] = [];
  const r = await extractActivations({
    model: fx.modelA, tokenizerJson: fx.tokenizerJson, docs, layers: [0, 1, 2], preset: 'gpt-neox',
    batchSize: 4, maxLength: 24, chunkTokens: 200, outDir: out, tapCacheDir, onChunk: (c) => void cursors.push(c.tokensDone),
  });
  const tok = await loadTokenizer(fx.tokenizerJson);
  const expected = docs.map((d) => tok.encode(d).slice(0, 24));
  const total = expected.reduce((n, e) => n + e.length, 0);
  assert.equal(r.index.numTokens, total);
  assert.ok(expected.some((e) => e.length < 24) && expected.some((e) => e.length === 24), 'batches mix lengths, so padding occurs');
  assert.ok(r.index.chunks.length >= 3);
  assert.equal(cursors.length, r.index.chunks.length);
  assert.equal(cursors.at(-1), total);
  assert.deepEqual(r.index.layers.map((l) => [l.layer, l.width]), [[0, 64], [1, 64], [2, 64]]);

  const table = await readTokenTable(out);
  assert.deepEqual(Array.from(table.tokenIds), expected.flat());
  assert.deepEqual(Array.from(table.docIds), expected.flatMap((e, d) => e.map(() => d)));
  assert.deepEqual(Array.from(table.positions), expected.flatMap((e) => e.map((_, p) => p)));

  // Layer 0 = token embedding rows, which the fixture takes from the planted universe.
  const planted = plantedUniverse({ ...FIXTURE_PLANTED_OPTIONS, vocabSize: FIXTURE_VOCAB_SIZE, dA: MODEL_A.dModel, dB: MODEL_B.dModel });
  const l0 = await allRows(out, 0);
  assert.equal(l0.rows, total);
  for (let t = 0; t < total; t++) {
    const id = table.tokenIds[t]!;
    assert.deepEqual(l0.data.subarray(t * 64, (t + 1) * 64), planted.embeddingsA.data.subarray(id * 64, (id + 1) * 64));
  }
  // Random access agrees with the chunk iterator across chunk boundaries.
  const rows = await activationRows(out, 2);
  const l2 = await allRows(out, 2);
  const a = r.index.chunks[1]!.firstToken - 3;
  assert.deepEqual((await rows.read(a, a + 10)).data, l2.data.subarray(a * 64, (a + 10) * 64));
});

test('batched activations equal per-document (unbatched) activations within 1e-5', async () => {
  const fx = await ensureFixtures();
  const tapCacheDir = await tmp();
  const common = { model: fx.modelB, tokenizerJson: fx.tokenizerJson, docs: docs.slice(0, 16), layers: [1, 3], maxLength: 32, tapCacheDir };
  const batched = await tmp();
  const single = await tmp();
  await extractActivations({ ...common, batchSize: 5, outDir: batched });
  await extractActivations({ ...common, batchSize: 1, outDir: single });
  for (const layer of [1, 3]) {
    const x = await allRows(batched, layer);
    const y = await allRows(single, layer);
    assert.equal(x.data.length, y.data.length);
    let maxDiff = 0;
    for (let i = 0; i < x.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x.data[i]! - y.data[i]!));
    assert.ok(maxDiff < 1e-5, `layer ${layer}: max |diff| ${maxDiff}`);
  }
  // Deeper layers move away from the embedding: layer 3 ≠ layer 1.
  assert.notDeepEqual((await allRows(batched, 1)).data, (await allRows(batched, 3)).data);
});

test('an interrupted extraction resumes from disk and reproduces the one-go result exactly', async () => {
  const fx = await ensureFixtures();
  const tapCacheDir = await tmp();
  const common = { model: fx.modelB, tokenizerJson: fx.tokenizerJson, docs, layers: [0, 2], batchSize: 4, maxLength: 24, chunkTokens: 150, tapCacheDir };
  const oneGo = await tmp();
  const full = await extractActivations({ ...common, outDir: oneGo });
  const resumed = await tmp();
  await assert.rejects(
    extractActivations({ ...common, outDir: resumed, onChunk: (c) => { if (c.chunk === 1) throw new Error('worker lost'); } }),
    /worker lost/,
  );
  const files = (await readdir(resumed)).filter((f) => f.endsWith('.arrow'));
  assert.deepEqual(files.sort(), ['chunk-000000.arrow', 'chunk-000001.arrow']);
  await assert.rejects(readActivationIndex(resumed), userError(/no index\.json/));
  const seen: number[] = [];
  const r = await extractActivations({ ...common, outDir: resumed, onChunk: (c) => void seen.push(c.chunk) });
  assert.equal(r.resumedChunks, 2);
  assert.equal(r.computedChunks, full.index.chunks.length - 2);
  assert.deepEqual(seen, full.index.chunks.slice(2).map((_, i) => i + 2));
  assert.deepEqual(r.index, { ...full.index, model: r.index.model });
  for (const c of full.index.chunks) assert.deepEqual(await readFile(join(resumed, c.file)), await readFile(join(oneGo, c.file)), c.file);
  // Running again on a complete directory computes nothing.
  const again = await extractActivations({ ...common, outDir: resumed });
  assert.equal(again.computedChunks, 0);
  // Different parameters on the same directory are refused rather than mixed.
  await assert.rejects(extractActivations({ ...common, batchSize: 3, outDir: resumed }), userError(/different inputs or parameters/));
});

test('bad inputs: corrupt model, pattern matching nothing, layer out of range, empty corpus, NaN activations', async () => {
  const fx = await ensureFixtures();
  const dir = await tmp();
  const base = { tokenizerJson: fx.tokenizerJson, docs, layers: [1], batchSize: 4, maxLength: 16, tapCacheDir: dir };
  const junk = join(dir, 'junk.onnx');
  await writeFile(junk, 'garbage bytes');
  await assert.rejects(extractActivations({ ...base, model: junk, outDir: join(dir, 'o1') }), userError(/junk\.onnx: not a valid ONNX model/));
  await assert.rejects(extractActivations({ ...base, model: fx.modelA, pattern: '/gpt_neox/layers.{layer}/Mystery_output_0', outDir: join(dir, 'o2') }),
    userError(/model-a\.onnx: pattern .* matches no tensor for layer 1/));
  await assert.rejects(extractActivations({ ...base, model: fx.modelA, layers: [3], outDir: join(dir, 'o3') }), userError(/model-a\.onnx: layer 3 out of range/));
  await assert.rejects(extractActivations({ ...base, model: fx.modelA, docs: [], outDir: join(dir, 'o4') }), userError(/corpus is empty/));
  await assert.rejects(extractActivations({ ...base, model: fx.modelA, docs: ['', ''], outDir: join(dir, 'o5') }), userError(/corpus is empty/));

  const tok = await loadTokenizer(fx.tokenizerJson);
  const poisoned = tok.encode(docs[3]!)[2]!;
  const emb = { data: Float32Array.from({ length: FIXTURE_VOCAB_SIZE * 64 }, (_, i) => Math.sin(i) * 0.1), rows: FIXTURE_VOCAB_SIZE, cols: 64 };
  emb.data[poisoned * 64 + 5] = NaN;
  const nanModel = join(dir, 'nan-model.onnx');
  await writeFile(nanModel, buildTinyModel({ ...MODEL_A, embeddings: emb }));
  await assert.rejects(extractActivations({ ...base, model: nanModel, layers: [0, 2], outDir: join(dir, 'o6') }),
    userError(/nan-model\.onnx: non-finite activation \(NaN\) in \/gpt_neox\/embed_in\/Gather_output_0 at document \d+, position \d+/));
});
