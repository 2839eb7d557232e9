// Huh et al.'s mutual k-NN and CKNNA against direct O(n²) implementations written plainly from
// their definitions (full n×n kernels, sorted neighbour lists, the unbiased HSIC formula term by
// term), on small related and independent cases; and both measures at 1 for a rotated copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { independentPair, matmul, randomOrthogonal, relatedPair } from './similarity.data.ts';

type Square = number[][];

/** Cosine kernel of the rows, in f64. */
function cosineKernel(m: Mat): Square {
  const rows = Array.from({ length: m.rows }, (_, i) => {
    const r = Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
    const norm = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    return r.map((v) => v / norm);
  });
  return rows.map((a) => rows.map((b) => a.reduce((s, v, c) => s + v * b[c]!, 0)));
}

/** Row i's k largest entries j ≠ i, as a 0/1 matrix. */
function topKMask(kernel: Square, k: number): Square {
  return kernel.map((row, i) => {
    const order = row.map((v, j) => [v, j] as const).filter(([, j]) => j !== i).sort((p, q) => q[0] - p[0]).slice(0, k).map(([, j]) => j);
    return row.map((_, j) => (order.includes(j) ? 1 : 0));
  });
}

function directMutualKnn(x: Mat, y: Mat, k: number): number {
  const mx = topKMask(cosineKernel(x), k), my = topKMask(cosineKernel(y), k);
  let total = 0;
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.rows; j++) total += mx[i]![j]! * my[i]![j]!;
  return total / (x.rows * k);
}

/** Song et al.'s unbiased HSIC, term by term as written (tr(K̃L̃) = Σ K̃ ∘ L̃ᵀ). */
function hsicUnbiased(kIn: Square, lIn: Square): number {
  const m = kIn.length;
  const kt = kIn.map((r, i) => r.map((v, j) => (i === j ? 0 : v)));
  const lt = lIn.map((r, i) => r.map((v, j) => (i === j ? 0 : v)));
  let trace = 0, sumK = 0, sumL = 0, sumKL = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      trace += kt[i]![j]! * lt[j]![i]!;
      sumK += kt[i]![j]!;
      sumL += lt[i]![j]!;
      let kl = 0;
      for (let t = 0; t < m; t++) kl += kt[i]![t]! * lt[t]![j]!;
      sumKL += kl;
    }
  }
  return (trace + (sumK * sumL) / ((m - 1) * (m - 2)) - (2 * sumKL) / (m - 2)) / (m * (m - 3));
}

function directCknna(x: Mat, y: Mat, k: number): number {
  const K = cosineKernel(x), L = cosineKernel(y);
  const sim = (a: Square, b: Square) => {
    const ma = topKMask(a, k), mb = topKMask(b, k);
    const mask = ma.map((r, i) => r.map((v, j) => v * mb[i]![j]!));
    return hsicUnbiased(a.map((r, i) => r.map((v, j) => v * mask[i]![j]!)), b.map((r, i) => r.map((v, j) => v * mask[i]![j]!)));
  };
  return sim(K, L) / Math.sqrt(sim(K, K) * sim(L, L));
}

const CASES: [label: string, pair: { x: Mat; y: Mat }, k: number | undefined][] = [
  ['related 30×6 / 30×9, k = 10', relatedPair(30, 6, 9, 4), undefined],
  ['related 40×5 / 40×5, k = 4', relatedPair(40, 5, 5, 8, 0.6), 4],
  ['independent 50×8 / 50×8, k = 10', independentPair(50, 8, 8, 12), undefined],
  ['independent 9×4 / 9×6, k capped at n − 2 = 7', independentPair(9, 4, 6, 3), undefined],
];

for (const [label, { x, y }, k] of CASES) {
  test(`mutual-knn and cknna equal their direct O(n²) definitions within 1e-6: ${label}`, async () => {
    const opts = k === undefined ? undefined : { k };
    const kk = Math.min(k ?? 10, x.rows - 2);
    const mutual = await MEASURES['mutual-knn'].score(x, y, opts);
    const direct = directMutualKnn(x, y, kk);
    assert.equal(mutual.extras?.k, kk);
    assert.ok(Math.abs(mutual.score - direct) <= 1e-6, `mutual-knn ${mutual.score} vs direct ${direct}`);
    const c = await MEASURES.cknna.score(x, y, opts);
    const dc = directCknna(x, y, kk);
    assert.ok(Number.isFinite(dc) && Math.abs(dc) > 1e-3, `a case that tests something: direct cknna ${dc}`);
    assert.ok(Math.abs(c.score - dc) <= 1e-6, `cknna ${c.score} vs direct ${dc}`);
    // The reversed order is its own number (cknna is not symmetric) and still matches.
    const rc = await MEASURES.cknna.score(y, x, opts);
    assert.ok(Math.abs(rc.score - directCknna(y, x, kk)) <= 1e-6, `cknna(y, x) ${rc.score}`);
  });
}

test('mutual-knn and cknna are 1 for a rotated, rescaled copy and low for independent rows', async () => {
  const { x } = relatedPair(60, 6, 6, 2);
  const rotated = matmul(x, randomOrthogonal(6, 3));
  rotated.data.forEach((v, i) => (rotated.data[i] = v * 2.5));
  const far = independentPair(300, 8, 8, 5);
  for (const name of ['mutual-knn', 'cknna'] as const) {
    const same = (await MEASURES[name].score(x, rotated)).score;
    assert.ok(Math.abs(same - 1) < 1e-5, `${name}(X, cXQ) = ${same}`);
    const indep = (await MEASURES[name].score(far.x, far.y)).score;
    assert.ok(indep < 0.15, `${name} of independent rows ${indep}`);
  }
});
