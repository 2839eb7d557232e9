import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correlateFeatures } from '../pipelines/pair/streamingCorrelation.ts';
import { matrixSource, featureSubsetSource, type ActivationSource } from '../pipelines/pair/activationSource.ts';
import { planBlocks, rowBytes } from '../pipelines/pair/blockPlan.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';
import { pairingCases, toMat } from './reference.ts';

const cases = pairingCases();

/** Pearson correlation in float64 over columns, the slow obvious way. */
function pearson64(a: Mat, b: Mat): Float64Array {
  const T = a.rows;
  const col = (m: Mat, j: number) => Float64Array.from({ length: T }, (_, t) => m.data[t * m.cols + j]!);
  const centred = (m: Mat) =>
    Array.from({ length: m.cols }, (_, j) => {
      const c = col(m, j);
      const mu = c.reduce((s, v) => s + v, 0) / T;
      const d = c.map((v) => v - mu);
      const n = Math.sqrt(d.reduce((s, v) => s + v * v, 0));
      return { d, n };
    });
  const ca = centred(a), cb = centred(b);
  const out = new Float64Array(a.cols * b.cols);
  for (let i = 0; i < a.cols; i++)
    for (let j = 0; j < b.cols; j++) {
      const x = ca[i]!, y = cb[j]!;
      if (x.n === 0 || y.n === 0) continue;
      let s = 0;
      for (let t = 0; t < T; t++) s += x.d[t]! * y.d[t]!;
      out[i * b.cols + j] = s / (x.n * y.n);
    }
  return out;
}

/** Dense-ish activations with large offsets and scales, correlated across the two sides. */
function correlatedPair(T: number, fa: number, fb: number, seed: number, minScale = 0.01): { a: Mat; b: Mat } {
  const r = seededRandom(seed);
  const latent = 6;
  const z = Float64Array.from({ length: T * latent }, () => r() - 0.5);
  const make = (f: number) => {
    const w = Float64Array.from({ length: latent * f }, () => r() - 0.5);
    const offset = Float64Array.from({ length: f }, () => 200 * r());
    const scale = Float64Array.from({ length: f }, () => minScale + 10 * r());
    const m = new Float32Array(T * f);
    for (let t = 0; t < T; t++)
      for (let j = 0; j < f; j++) {
        let v = 0.3 * (r() - 0.5);
        for (let l = 0; l < latent; l++) v += z[t * latent + l]! * w[l * f + j]!;
        m[t * f + j] = offset[j]! + scale[j]! * v;
      }
    return { data: m, rows: T, cols: f };
  };
  return { a: make(fa), b: make(fb) };
}

test('reproduces the original pairing (argmax exactly, max correlation within 1e-4) with one block and with many', async () => {
  for (const c of cases) {
    for (const plan of [undefined, { blockA: 7, blockB: 9, tokenChunk: 64 }]) {
      const r = await correlateFeatures(matrixSource(toMat(c.A)), matrixSource(toMat(c.B)), { kind: 'reference', plan });
      assert.deepEqual(Array.from(r.aForEachB), c.argmax_a_for_each_b, `${c.name} argmax`);
      c.max_corr_for_each_b.forEach((v, j) => assert.ok(Math.abs(r.corrForEachB[j]! - v) < 1e-4, `${c.name} corr ${j}`));
    }
  }
});

test('pearson correlations are within 1e-5 of float64 despite large offsets, in both directions', async () => {
  const { a, b } = correlatedPair(1500, 37, 29, 7);
  const want = pearson64(a, b);
  const r = await correlateFeatures(matrixSource(a), matrixSource(b), { plan: { blockA: 16, blockB: 11, tokenChunk: 200 }, keepMatrix: true });
  let maxErr = 0;
  for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(r.matrix!.data[i]! - want[i]!));
  assert.ok(maxErr < 1e-5, `max error ${maxErr}`);
  for (let j = 0; j < b.cols; j++) {
    let best = 0;
    for (let i = 1; i < a.cols; i++) if (want[i * b.cols + j]! > want[best * b.cols + j]!) best = i;
    assert.ok(Math.abs(r.corrForEachB[j]! - want[best * b.cols + j]!) < 1e-5);
    assert.ok(Math.abs(want[r.aForEachB[j]! * b.cols + j]! - want[best * b.cols + j]!) < 1e-5, 'argmax is a maximiser');
  }
  for (let i = 0; i < a.cols; i++) {
    let best = 0;
    for (let j = 1; j < b.cols; j++) if (want[i * b.cols + j]! > want[i * b.cols + best]!) best = j;
    assert.ok(Math.abs(r.corrForEachA[i]! - want[i * b.cols + best]!) < 1e-5);
  }
});

test('30 000 tokens with offsets 10⁵ times the spread: still within 1e-5 of float64 at the default chunk', async () => {
  const { a, b } = correlatedPair(30000, 8, 6, 21, 0.001);
  const want = pearson64(a, b);
  const r = await correlateFeatures(matrixSource(a), matrixSource(b), { keepMatrix: true });
  let maxErr = 0;
  for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(r.matrix!.data[i]! - want[i]!));
  assert.ok(maxErr < 1e-5, `max error ${maxErr}`);
});

test('the reference correlation is pearson scaled by (T-1)/T', async () => {
  const { a, b } = correlatedPair(300, 5, 4, 3);
  const p = await correlateFeatures(matrixSource(a), matrixSource(b), { keepMatrix: true });
  const q = await correlateFeatures(matrixSource(a), matrixSource(b), { kind: 'reference', keepMatrix: true });
  p.matrix!.data.forEach((v, i) => assert.ok(Math.abs(q.matrix!.data[i]! - (v * 299) / 300) < 1e-6));
});

test('zero-variance features correlate 0 with everything, never NaN', async () => {
  const T = 257, r = seededRandom(11);
  const a = { data: new Float32Array(T * 3), rows: T, cols: 3 };
  const b = { data: new Float32Array(T * 2), rows: T, cols: 2 };
  for (let t = 0; t < T; t++) {
    a.data[t * 3] = 0.1; // constant that is not exact in binary
    a.data[t * 3 + 1] = r();
    a.data[t * 3 + 2] = 0; // dead feature
    b.data[t * 2] = a.data[t * 3 + 1]! * 2 + 1;
    b.data[t * 2 + 1] = 123.456;
  }
  for (const kind of ['pearson', 'reference'] as const) {
    const res = await correlateFeatures(matrixSource(a), matrixSource(b), { kind, keepMatrix: true, plan: { tokenChunk: 50 } });
    const m = res.matrix!.data;
    assert.ok(m.every((v) => Number.isFinite(v)));
    assert.deepEqual([m[0], m[1], m[3], m[4], m[5]], [0, 0, 0, 0, 0]);
    assert.ok(Math.abs(m[2]! - (kind === 'pearson' ? 1 : 256 / 257)) < 1e-5);
    assert.equal(res.aForEachB[0], 1);
    assert.equal(res.corrForEachB[1], 0);
    assert.equal(res.statsA.sd[0], 0);
    assert.ok(Math.abs(res.statsA.mean[0]! - 0.1) < 1e-7);
  }
});

test('top-k activations per feature match a sort (ties by position), across chunks and blocks', async () => {
  const T = 300, F = 9, r = seededRandom(5);
  // Quantised values make many ties; some features are mostly zero like SAE codes.
  const data = Float32Array.from({ length: T * F }, (_, i) => (i % F < 4 && r() < 0.9 ? 0 : Math.floor(r() * 4)));
  const a = { data, rows: T, cols: F };
  const res = await correlateFeatures(matrixSource(a), matrixSource(a), { topK: 5, plan: { blockA: 4, blockB: 5, tokenChunk: 37 } });
  for (const top of [res.topA!, res.topB!]) {
    for (let f = 0; f < F; f++) {
      const order = Array.from({ length: T }, (_, t) => t).sort((x, y) => data[y * F + f]! - data[x * F + f]! || x - y);
      assert.deepEqual(Array.from(top.positions.subarray(f * 5, f * 5 + 5)), order.slice(0, 5), `feature ${f}`);
      assert.deepEqual(Array.from(top.values.subarray(f * 5, f * 5 + 5)), order.slice(0, 5).map((t) => data[t * F + f]!));
    }
  }
});

test('reads stay within the planned chunk and block sizes, whatever the token count', async () => {
  const { a, b } = correlatedPair(900, 20, 30, 9);
  let maxCells = 0;
  const spy = (m: Mat): ActivationSource => {
    const s = matrixSource(m);
    return { ...s, numTokens: s.numTokens, numFeatures: s.numFeatures, read: async (t0, t1, f0, f1) => ((maxCells = Math.max(maxCells, (t1 - t0) * (f1 - f0))), s.read(t0, t1, f0, f1)) };
  };
  const plan = { blockA: 8, blockB: 12, tokenChunk: 100 };
  const progress: string[] = [];
  const r = await correlateFeatures(spy(a), spy(b), { plan, keepMatrix: true, onProgress: (d, t) => void progress.push(`${d}/${t}`) });
  assert.ok(maxCells <= 100 * 12, `largest read ${maxCells} cells`);
  assert.deepEqual(progress, ['1/9', '2/9', '3/9', '4/9', '5/9', '6/9', '7/9', '8/9', '9/9']);
  const full = await correlateFeatures(matrixSource(a), matrixSource(b), { keepMatrix: true });
  r.matrix!.data.forEach((v, i) => assert.ok(Math.abs(v - full.matrix!.data[i]!) < 1e-5));
});

test('block plan fits the budget and never holds a 32768² matrix whole', () => {
  for (const budget of [256 << 20, 1 << 30, 4 * 2 ** 30]) {
    const p = planBlocks(32768, 32768, 30000, budget);
    assert.ok(rowBytes(p, 32768) <= budget, `${JSON.stringify(p)} fits ${budget}`);
    assert.ok(p.blockA * p.blockB < 32768 * 32768);
    // A row of A features against all 32768 B features: a bigger budget buys a wider row.
    if (budget >= 1 << 30) assert.ok(p.blockA >= 4096 && p.blockB >= 1024, `blocks ${p.blockA}×${p.blockB} too small to be fast`);
  }
  assert.deepEqual(planBlocks(10, 20, 50), { blockA: 10, blockB: 20, tokenChunk: 50 });
});

test('a feature subset source renumbers the chosen features', async () => {
  const { a, b } = correlatedPair(200, 12, 6, 13);
  const pick = [11, 2, 5];
  const sub = await correlateFeatures(featureSubsetSource(matrixSource(a), pick), matrixSource(b), { keepMatrix: true });
  const full = await correlateFeatures(matrixSource(a), matrixSource(b), { keepMatrix: true });
  pick.forEach((f, i) => {
    for (let j = 0; j < 6; j++) assert.ok(Math.abs(sub.matrix!.data[i * 6 + j]! - full.matrix!.data[f * 6 + j]!) < 1e-6);
  });
  await assert.rejects(correlateFeatures(matrixSource(a), matrixSource({ data: new Float32Array(6), rows: 3, cols: 2 })), /token counts differ/);
});
