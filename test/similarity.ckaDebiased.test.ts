// Debiased linear CKA against a direct n×n implementation of the unbiased HSIC estimator (Song et
// al. 2012), written from the formula with explicit kernels K = XXᵀ, L = YYᵀ and zeroed diagonals:
// the feature-space computation and its fast null must give the same numbers. Also: 0 in
// expectation for unrelated rows at small n (where biased CKA is near 1), bounded by 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { permutationNull } from '../pipelines/similarity/permutationNull.ts';
import { seededPermutations } from '../pipelines/similarity/permutations.ts';
import { gatherRows } from '../pipelines/similarity/matrix.ts';
import { independentPair, randomMat, relatedPair } from './similarity.data.ts';

/** K with a zeroed diagonal, in f64, from the raw (uncentred) rows. */
function zeroDiagonalGram(x: Mat): Float64Array {
  const n = x.rows, d = x.cols;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (i === j) continue;
    let s = 0;
    for (let c = 0; c < d; c++) s += x.data[i * d + c]! * x.data[j * d + c]!;
    k[i * n + j] = s;
  }
  return k;
}

function hsicU(k: Float64Array, l: Float64Array, n: number): number {
  let trace = 0, sumK = 0, sumL = 0, rowDot = 0;
  for (let i = 0; i < n; i++) {
    let ki = 0, li = 0;
    for (let j = 0; j < n; j++) {
      trace += k[i * n + j]! * l[j * n + i]!;
      ki += k[i * n + j]!;
      li += l[i * n + j]!;
    }
    sumK += ki;
    sumL += li;
    rowDot += ki * li;
  }
  return (trace + (sumK * sumL) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * rowDot) / (n * (n - 3));
}

function directCka(x: Mat, y: Mat): number {
  const k = zeroDiagonalGram(x), l = zeroDiagonalGram(y);
  return hsicU(k, l, x.rows) / Math.sqrt(hsicU(k, k, x.rows) * hsicU(l, l, x.rows));
}

const shifted = (m: Mat, by: number): Mat => ({ ...m, data: m.data.map((v, i) => v + by * (1 + (i % m.cols))) });

const CASES: [string, { x: Mat; y: Mat }][] = [
  ['related 12×5/7', relatedPair(12, 5, 7, 1)],
  ['related 30×8/3', relatedPair(30, 8, 3, 2)],
  ['independent 9×20/16', independentPair(9, 20, 16, 3)],
  ['independent, large column means 25×6/6', { x: shifted(randomMat(25, 6, 4), 4), y: shifted(randomMat(25, 6, 5), -3) }],
  ['the smallest n, 4×3/2', independentPair(4, 3, 2, 6)],
];

for (const [name, { x, y }] of CASES) {
  test(`cka-debiased ${name}: the feature-space score equals the direct n×n estimator within 1e-6 (relative)`, async () => {
    const want = directCka(x, y);
    const got = (await MEASURES['cka-debiased'].score(x, y)).score;
    assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(Math.abs(want), 1e-3), `${got} vs direct ${want}`);
    assert.ok(Math.abs(want) <= 1 + 1e-12, `|CKA_u| ≤ 1 (Cauchy–Schwarz on U-centred kernels): ${want}`);
  });

  test(`cka-debiased ${name}: the fast null scores every permutation as the direct estimator does`, async () => {
    const perms = seededPermutations(x.rows, 8, 7);
    const r = await permutationNull(MEASURES['cka-debiased'], x, y, { permutations: perms, keepScores: true });
    // The null's route multiplies in f32 (summing in f64): its scores, the observed one included,
    // within 1e-6 of CKA's scale (a score near 0 is a difference of O(1) terms, ~5e-8 apart here).
    const tol = (v: number) => 1e-6 * Math.max(Math.abs(v), 1);
    assert.ok(Math.abs(r.observed - directCka(x, y)) <= tol(directCka(x, y)), `observed ${r.observed} vs ${directCka(x, y)}`);
    perms.forEach((p, i) => {
      const want = directCka(x, gatherRows(y, p));
      assert.ok(Math.abs(r.nullScores![i]! - want) <= tol(want), `permutation ${i}: ${r.nullScores![i]} vs direct ${want}`);
    });
  });
}

test('unrelated rows: cka-debiased is near 0 where biased CKA is near 1 (n = 20, d = 512)', async () => {
  const { x, y } = independentPair(20, 512, 512, 9);
  const biased = (await MEASURES.cka.score(x, y)).score;
  const debiased = (await MEASURES['cka-debiased'].score(x, y)).score;
  assert.ok(biased > 0.9, `biased CKA ${biased}`);
  assert.ok(Math.abs(debiased) < 0.1, `debiased CKA ${debiased}`);
  // Across seeds its mean is near 0 (unbiased numerator) and it takes both signs.
  const values: number[] = [];
  for (let s = 0; s < 12; s++) {
    const p = independentPair(16, 40, 40, 100 + s);
    values.push((await MEASURES['cka-debiased'].score(p.x, p.y)).score);
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  assert.ok(Math.abs(mean) < 0.05, `mean over seeds ${mean}`);
  assert.ok(values.some((v) => v < 0) && values.some((v) => v > 0), values.join(', '));
});
