// Data-free pairing by decoder cosine (`pairing.method: "decoder"`): the cosine matrix is the
// ONNX GEMM of unit rows, the Hungarian assignment on it recovers a planted permutation of
// decoder rows whatever the activations say, each assigned pair still carries its activation
// correlation, and SAEs of different widths are refused with both files named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { UserInputError } from '../pipelines/errors.ts';
import { checkDecoderWidths, decoderAssignment, decoderCosines, DECODER_PAIRING_PROPERTIES } from '../pipelines/pair/decoderPairing.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { pairOneToOne } from '../pipelines/pair/oneToOne.ts';
import { correlateFeatures } from '../pipelines/pair/streamingCorrelation.ts';
import { permutationOf, seededRandom } from '../pipelines/random.ts';
import { parseSweepConfig } from '../pipelines/config.ts';
import { matmul, randomMat, randomOrthogonal } from './similarity.data.ts';

/** decB row perm[i] = decA row i · scale_i + noise: a planted one-to-one match in one space. */
function plantedDecoders(f: number, d: number, seed: number, noise: number): { a: Mat; b: Mat; perm: Int32Array } {
  const a = randomMat(f, d, seed);
  const n = randomMat(f, d, seed + 1, noise);
  const perm = permutationOf(f, seededRandom(seed + 2));
  const b: Mat = { data: new Float32Array(f * d), rows: f, cols: d };
  for (let i = 0; i < f; i++) for (let c = 0; c < d; c++) b.data[perm[i]! * d + c] = a.data[i * d + c]! * (1 + (i % 3)) + n.data[i * d + c]!;
  return { a, b, perm };
}

test('decoder cosines equal the cosines computed directly', async () => {
  const a = randomMat(7, 5, 1), b = randomMat(9, 5, 2);
  const c = await decoderCosines(a, b);
  assert.equal(c.rows, 7);
  assert.equal(c.cols, 9);
  const row = (m: Mat, i: number) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
  for (let i = 0; i < 7; i++) {
    for (let j = 0; j < 9; j++) {
      const x = row(a, i), y = row(b, j);
      const dot = x.reduce((s, v, k) => s + v * y[k]!, 0);
      const direct = dot / Math.hypot(...x) / Math.hypot(...y);
      assert.ok(Math.abs(c.data[i * 9 + j]! - direct) < 1e-6, `(${i}, ${j}): ${c.data[i * 9 + j]} vs ${direct}`);
    }
  }
});

test('the Hungarian assignment on decoder cosines recovers a planted permutation of rescaled, noisy rows', async () => {
  const { a, b, perm } = plantedDecoders(80, 16, 5, 0.05);
  const all = Array.from({ length: 80 }, (_, i) => i);
  const r = await decoderAssignment(a, b, all, all);
  assert.deepEqual(Array.from(r.colForRow), Array.from(perm));
  assert.ok(r.total > 0.95 * 80, `total cosine ${r.total}`);
  // On a pool, indices are positions in the pool.
  const pool = [3, 10, 11, 40];
  const sub = await decoderAssignment(a, b, pool, pool.map((i) => perm[i]!));
  assert.deepEqual(Array.from(sub.colForRow), [0, 1, 2, 3]);
});

test('pairOneToOne with method decoder follows the decoders, not the activations, and reports each pair\'s activation correlation', async () => {
  const f = 30, T = 400;
  const { a: decA, b: decB, perm } = plantedDecoders(f, 12, 9, 0.02);
  // Activations unrelated to the decoders: a correlation pairing would pair something else.
  const actA = randomMat(T, f, 21), actB = randomMat(T, f, 22);
  const pool = Array.from({ length: f }, (_, i) => i);
  const res = await pairOneToOne(matrixSource(actA), matrixSource(actB), { method: 'decoder', poolA: pool, poolB: pool, decoders: { a: decA, b: decB } });
  assert.equal(res.method, 'decoder');
  for (let i = 0; i < f; i++) assert.equal(res.aForEachB[perm[i]!], i);
  const full = await correlateFeatures(matrixSource(actA), matrixSource(actB), { kind: 'pearson', keepMatrix: true });
  for (let i = 0; i < f; i++) {
    const c = full.matrix!.data[i * f + perm[i]!]!;
    assert.ok(Math.abs(res.corrForEachB[perm[i]!]! - c) < 1e-5, `pair ${i}: ${res.corrForEachB[perm[i]!]} vs ${c}`);
  }
  assert.ok(res.total > 0.95 * f, `total decoder cosine ${res.total}`);
  await assert.rejects(pairOneToOne(matrixSource(actA), matrixSource(actB), { method: 'decoder', poolA: pool, poolB: pool }), /needs both decoders/);
});

test('SAEs of different widths are refused, naming both files and the alternatives', () => {
  const a = { dIn: 64, file: '/saes/a/layers.0/sae.safetensors', model: 'fixture-a', layer: 1 };
  assert.doesNotThrow(() => checkDecoderWidths(a, { ...a, file: '/saes/a/layers.1/sae.safetensors', layer: 2 }));
  assert.throws(
    () => checkDecoderWidths(a, { dIn: 96, file: '/saes/b/blocks.0/sae_weights.safetensors', model: 'fixture-b', layer: 1 }),
    (e: unknown) =>
      e instanceof UserInputError &&
      /pairing\.method "decoder"/.test(e.message) &&
      e.message.includes('/saes/a/layers.0/sae.safetensors') &&
      e.message.includes('d = 64') &&
      e.message.includes('/saes/b/blocks.0/sae_weights.safetensors') &&
      e.message.includes('d = 96') &&
      /greedy/.test(e.message),
  );
});

test('the sweep config accepts pairing.method "decoder" and still names the field for an unknown one', () => {
  const base = {
    corpus: { path: 'c.txt' },
    models: {
      a: { name: 'a', model: 'a.onnx', tokenizer: 't.json', sae: 'sa', layers: [1] },
      b: { name: 'b', model: 'a.onnx', tokenizer: 't.json', sae: 'sb', layers: [2] },
    },
  };
  assert.equal(parseSweepConfig({ ...base, pairing: { method: 'decoder' } }, '/tmp/sweep.json').pairing.method, 'decoder');
  assert.throws(() => parseSweepConfig({ ...base, pairing: { method: 'cosine' } }, '/tmp/sweep.json'), /pairing\.method/);
});

test('decoder pairing: each declared invariance holds, each undeclared one changes the assignment, and it is permutation-equivariant', async () => {
  // Unrelated decoders: the assignment is decided by small margins, so any change of the cosines shows.
  const a = randomMat(40, 8, 31), b = randomMat(40, 8, 32);
  const all = Array.from({ length: 40 }, (_, i) => i);
  const assign = async (x: Mat, y: Mat) => Array.from((await decoderAssignment(x, y, all, all)).colForRow);
  const base = await assign(a, b);
  const q = randomOrthogonal(8, 5);
  const shift = (m: Mat) => ({ ...m, data: m.data.map((v, i) => v + 0.8 * ((i % 8) - 3.5)) });
  const transforms: Record<keyof typeof DECODER_PAIRING_PROPERTIES.invariances, () => Promise<number[]>> = {
    rowScaling: () => assign({ ...a, data: a.data.map((v, i) => v * (1 + (Math.floor(i / 8) % 5))) }, b),
    sharedOrthogonal: () => assign(matmul(a, q), matmul(b, q)),
    oneSideOrthogonal: () => assign(matmul(a, q), b),
    translation: () => assign(shift(a), shift(b)),
  };
  for (const [kind, run] of Object.entries(transforms) as [keyof typeof transforms, () => Promise<number[]>][]) {
    const changed = await run();
    if (DECODER_PAIRING_PROPERTIES.invariances[kind]) assert.deepEqual(changed, base, `declared invariant to ${kind}`);
    else assert.notDeepEqual(changed, base, `declared not invariant to ${kind}, but the assignment did not move`);
  }
  // Relabelling B's rows by π relabels the assignment: row i goes to π⁻¹(base[i]).
  const pi = permutationOf(40, seededRandom(9));
  const permutedB: Mat = { ...b, data: new Float32Array(b.data.length) };
  for (let j = 0; j < 40; j++) permutedB.data.set(b.data.subarray(pi[j]! * 8, (pi[j]! + 1) * 8), j * 8);
  const inverse = new Int32Array(40);
  pi.forEach((p, j) => (inverse[p] = j));
  assert.equal(DECODER_PAIRING_PROPERTIES.permutationEquivariant, true);
  assert.deepEqual(await assign(a, permutedB), base.map((j) => inverse[j]!));
});
