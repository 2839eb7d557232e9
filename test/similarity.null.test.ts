// Permutation nulls: the fast nulls equal the slow recompute-from-scratch null on the same
// permutations; independent data sits inside its null, planted related data beats every
// permutation; p-value rules, seeds, explicit permutations, the paired scorer's two modes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { MEASURES, MEASURE_NAMES } from '../pipelines/similarity/registry.ts';
import { coarseNullReason, effectSize, nullPermutations, permutationNull, pFloor, pValue } from '../pipelines/similarity/permutationNull.ts';
import { seededPermutations } from '../pipelines/similarity/permutations.ts';
import { pairedScorer } from '../pipelines/similarity/pairedScorer.ts';
import { batchFor } from '../pipelines/similarity/svcca.ts';
import { sessionOptions } from '../pipelines/kernels/session.ts';
import { independentPair, matmul, randomMat, relatedPair } from './similarity.data.ts';
import { similarityCases, toMat } from './reference.ts';
import { gatherRows } from '../pipelines/similarity/matrix.ts';
import { rowFactor } from '../pipelines/similarity/procrustes.ts';
import { singularValues } from '../pipelines/similarity/spectrum.ts';

for (const name of MEASURE_NAMES.filter((n) => MEASURES[n].prepareNull)) {
  test(`${name}: the fast null equals recomputing every permuted score from scratch`, async () => {
    const { x, y } = relatedPair(40, 6, MEASURES[name].equalWidths ? 6 : 9, 3);
    const perms = seededPermutations(40, 12, 5);
    const fast = await permutationNull(MEASURES[name], x, y, { permutations: perms, keepScores: true });
    const slow = await permutationNull(MEASURES[name], x, y, { permutations: perms, keepScores: true, slow: true });
    // Both observed scores take their null's route: the fast one f32 kernels, the slow one `score`.
    assert.ok(Math.abs(fast.observed - slow.observed) < 2e-5, `observed: fast ${fast.observed} vs slow ${slow.observed}`);
    fast.nullScores!.forEach((v, i) => assert.ok(Math.abs(v - slow.nullScores![i]!) < 2e-5, `permutation ${i}: fast ${v} vs slow ${slow.nullScores![i]}`));
    // The permuted scores really differ from the observed one (the permutation is applied).
    assert.ok(fast.nullScores!.some((v) => Math.abs(v - fast.observed) > 1e-3));
  });
}

for (const name of MEASURE_NAMES) {
  test(`${name}: independent data sits inside its null; planted related data beats every permutation`, async () => {
    const m = MEASURES[name];
    const widthB = m.equalWidths ? 5 : 7;
    const indep = independentPair(60, 5, widthB, 17);
    const r = await permutationNull(m, indep.x, indep.y, { permutations: 200, seed: 1 });
    assert.equal(r.permutations, 200);
    assert.ok(r.nullSd > 0);
    assert.ok(Math.abs(r.observed - r.nullMean) < 4 * r.nullSd, `observed ${r.observed} vs null ${r.nullMean} ± ${r.nullSd}`);
    assert.ok(r.p >= 0.01, `p = ${r.p} on independent data`);
    if (name === 'rsa' || name === 'rsa-euclidean' || name === 'mean-corr') assert.ok(Math.abs(r.nullMean) < 0.05, `null mean ${r.nullMean}`);

    const planted = relatedPair(60, 5, widthB, 23, 0.05);
    const N = 30;
    const s = await permutationNull(m, planted.x, planted.y, { permutations: N, seed: 2 });
    assert.equal(s.p, 1 / (1 + N), `${name}: observed ${s.observed}, null ${s.nullMean} ± ${s.nullSd}`);
    const ref = await permutationNull(m, planted.x, planted.y, { permutations: N, seed: 2, pValue: 'reference' });
    assert.equal(ref.p, 0, 'the original p is mean(null ≥ observed): 0 when no permutation reaches it');
  });
}

// The observed score is the identity permutation's, by the null's own route: an identity among
// the permutations scores exactly the observed value, wherever it sits in its batch, and counts
// as at least as similar. A different route for the observed score (e.g. f64 against f32
// permuted scores) would miss this by rounding, and p would move.
for (const name of MEASURE_NAMES) {
  for (const slow of [false, true]) {
    if (slow && !MEASURES[name].prepareNull) continue;
    test(`${name}${slow ? ' (slow null)' : ''}: an identity among the permutations scores exactly the observed value and counts`, async () => {
      const m = MEASURES[name];
      const { x, y } = relatedPair(40, 13, m.equalWidths ? 13 : 29, 4, 0.05);
      const identity = Int32Array.from({ length: 40 }, (_, i) => i);
      const perms = seededPermutations(40, slow ? 9 : 70, 6);
      const at = slow ? [0, 5, 11] : [0, 37, 72]; // first, inside a batch, in a later batch
      for (const i of at) perms.splice(i, 0, identity);
      const r = await permutationNull(m, x, y, { permutations: perms, keepScores: true, slow });
      for (const i of at) assert.equal(r.nullScores![i], r.observed, `identity at ${i}: ${r.nullScores![i]} vs observed ${r.observed}`);
      assert.equal(r.p, pValue(r.observed, r.nullScores!, 'described', m.properties.largerIsMoreSimilar));
      // Planted related rows: only the identities reach the observed score.
      if (name !== 'mean-corr') assert.equal(r.p, (1 + at.length) / (1 + perms.length), `${name}: p ${r.p}`);
    });
  }
}

test('effect = (observed − null mean) / null sd, absent without spread; the p floor of small nulls', async () => {
  const { x, y } = relatedPair(30, 4, 6, 8);
  const r = await permutationNull(MEASURES.rsa, x, y, { permutations: 40, seed: 2 });
  assert.equal(r.effect, (r.observed - r.nullMean) / r.nullSd);
  assert.ok(r.effect! > 3, `related rows: effect ${r.effect}`);
  const d = await permutationNull(MEASURES.procrustes, x, y, { permutations: 40, seed: 2 });
  assert.ok(d.effect! < -3, `a distance: more similar than the null = negative effect (${d.effect})`);
  for (const count of [0, 1]) {
    const none = await permutationNull(MEASURES.rsa, x, y, { permutations: count });
    assert.equal(none.effect, null, `${count} permutations: no spread, no effect`);
  }
  assert.equal(effectSize(1, 0.5, 0), null);
  assert.equal(effectSize(1, 0.5, Number.NaN), null);
  assert.equal(effectSize(0.2, 0.5, 0.1), (0.2 - 0.5) / 0.1);
  assert.equal(pFloor(5, 1000), 1 / 120);
  assert.equal(pFloor(30, 19), 1 / 20);
  assert.equal(r.pFloor, 1 / 41);
  assert.equal(coarseNullReason(30, 19), undefined);
  assert.equal(coarseNullReason(30, 18), 'a null of 18 permutations cannot reach p ≤ 0.05 (smallest p 0.053)');
  assert.equal(coarseNullReason(4, 1000), undefined, '4! = 24 permutations reach 1/24');
  assert.equal(coarseNullReason(3, 1000), 'a null of 3 rows (3! distinct permutations) cannot reach p ≤ 0.05 (smallest p 0.17)');
});

test('p-value rules: (1 + #)/(1 + N) by default, mean(null ≥ observed) in reference mode, ≤ for distances', () => {
  const nulls = [0.1, 0.5, 0.5, 0.9];
  assert.equal(pValue(0.5, nulls, 'described'), (1 + 3) / 5);
  assert.equal(pValue(0.5, nulls, 'reference'), 3 / 4);
  assert.equal(pValue(0.95, nulls, 'described'), 1 / 5);
  assert.equal(pValue(0.95, nulls, 'reference'), 0);
  assert.equal(pValue(0.1, nulls, 'described', false), (1 + 1) / 5);
});

test('seeded nulls are reproducible, independent of batching, and explicit permutations are checked', async () => {
  const { x, y } = relatedPair(30, 4, 6, 8);
  const a = await permutationNull(MEASURES.svcca, x, y, { permutations: 25, seed: 4, keepScores: true });
  const b = await permutationNull(MEASURES.svcca, x, y, { permutations: 25, seed: 4, keepScores: true });
  const c = await permutationNull(MEASURES.svcca, x, y, { permutations: 25, seed: 5, keepScores: true });
  assert.deepEqual(a.nullScores, b.nullScores);
  assert.notDeepEqual(a.nullScores, c.nullScores);
  // The same permutations given explicitly (one batch) give the same null as the seeded stream.
  const explicit = await permutationNull(MEASURES.svcca, x, y, { permutations: nullPermutations(30, 4, 0, 25), keepScores: true });
  explicit.nullScores!.forEach((v, i) => assert.ok(Math.abs(v - a.nullScores![i]!) < 1e-9));
  for (const p of nullPermutations(30, 4, 0, 5)) assert.deepEqual([...p].sort((u, v) => u - v), Array.from({ length: 30 }, (_, i) => i));
  await assert.rejects(permutationNull(MEASURES.rsa, x, y, { permutations: [[0, 1, 2]] }), /permutation 0 has 3 entries, expected 30/);
  const dup = Array.from({ length: 30 }, (_, i) => (i === 5 ? 4 : i));
  await assert.rejects(permutationNull(MEASURES.rsa, x, y, { permutations: [dup] }), /not a permutation/);
});

test('null batches stay bounded at n = 8192 × 768', () => {
  const perPermutation = 4 * (8192 * 768 + 5 * 512 * 768 + 2 * 512 * 512);
  const batch = batchFor(perPermutation);
  assert.ok(batch >= 1 && batch * perPermutation <= 256 * 2 ** 20, `batch ${batch}`);
  // A whole number of products per thread once the batch reaches the thread count.
  const threads = sessionOptions().intraOpNumThreads ?? 1;
  for (const bytes of [perPermutation, 2 ** 20, 100 * 2 ** 20]) {
    const b = batchFor(bytes);
    assert.ok(b < threads || b % threads === 0, `batch ${b} on ${threads} threads`);
    assert.ok(b * bytes <= 256 * 2 ** 20 || b === 1);
  }
});

test('the paired scorer: textbook SVCCA and (1+#)/(1+N) described, the original SVCCA and p in reference mode', async () => {
  const { x, y } = relatedPair(40, 6, 8, 12, 0.05);
  const described = await pairedScorer('svcca', x, y, { mode: 'described', permutations: 20, seed: 3 });
  const reference = await pairedScorer('svcca', x, y, { mode: 'reference', permutations: 20, seed: 3 });
  // The null's observed score takes the null's route (f32 products, Newton–Schulz): close to the
  // precise standalone score, not equal to it.
  assert.ok(Math.abs(described.observed - (await MEASURES.svcca.score(x, y)).score) < 2e-5);
  assert.ok(Math.abs(reference.observed - (await MEASURES['svcca-reference'].score(x, y)).score) < 2e-5);
  assert.notEqual(described.observed.toFixed(4), reference.observed.toFixed(4));
  assert.equal(described.p, 1 / 21);
  assert.equal(reference.p, 0);
  const rsaScore = await pairedScorer('rsa', x, y, { mode: 'described', permutations: 20, seed: 3 });
  assert.ok(Math.abs(rsaScore.observed - (await MEASURES.rsa.score(x, y)).score) < 1e-9);
  assert.deepEqual(Object.keys(rsaScore).sort(), ['effect', 'nullMean', 'nullSd', 'observed', 'p', 'permutations', 'saturated']);
  assert.equal(rsaScore.effect, (rsaScore.observed - rsaScore.nullMean) / rsaScore.nullSd);
});

// ---- Procrustes: the fast null (row factors, batched products, scaled Newton–Schulz) ----

/** Decoder-like rows: column scales decaying over `decades` orders of magnitude; y = x·M + small noise. */
function decayingPair(n: number, dA: number, dB: number, decades: number, seed: number): { x: Mat; y: Mat } {
  const base = randomMat(n, dA, seed);
  const x: Mat = { data: base.data.map((v, i) => v * 10 ** ((-decades * (i % dA)) / (dA - 1))), rows: n, cols: dA };
  const mixed = matmul(x, randomMat(dA, dB, seed + 1));
  const noise = randomMat(n, dB, seed + 2, 1e-3);
  return { x, y: { data: mixed.data.map((v, i) => v + noise.data[i]!), rows: n, cols: dB } };
}

/** Procrustes distance by the textbook route, independent of ours: f64 XᵀY in JS, ml-matrix SVD. */
function procrustesBySvd(x: Mat, y: Mat): number {
  const c = new Float64Array(x.cols * y.cols);
  let nx = 0, ny = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let a = 0; a < x.cols; a++) {
      const v = x.data[i * x.cols + a]!;
      nx += v * v;
      for (let b = 0; b < y.cols; b++) c[a * y.cols + b]! += v * y.data[i * y.cols + b]!;
    }
  }
  for (const v of y.data) ny += v * v;
  const nuclear = singularValues(c, x.cols, y.cols).reduce((a, b) => a + b, 0) / Math.sqrt(nx * ny);
  return Math.sqrt(Math.max(0, 2 - 2 * nuclear));
}

for (const [n, dA, dB, decades] of [
  [300, 48, 64, 4],
  [200, 40, 32, 6],
  [24, 96, 80, 3], // fewer rows than half the columns: both sides go through the n×n row factor
] as const) {
  test(`procrustes ${n}×${dA}/${dB}, spectrum over ${decades} decades: fast null = slow null = SVD within 1e-4`, async () => {
    const { x, y } = decayingPair(n, dA, dB, decades, n + dA);
    const perms = seededPermutations(n, 10, 9);
    const fast = await permutationNull(MEASURES.procrustes, x, y, { permutations: perms, keepScores: true });
    const slow = await permutationNull(MEASURES.procrustes, x, y, { permutations: perms, keepScores: true, slow: true });
    // The standalone score is the precise one; the null's observed takes the null's route (f32
    // products, Newton–Schulz) and is held to the permuted scores' tolerance.
    assert.ok(Math.abs((await MEASURES.procrustes.score(x, y)).score - procrustesBySvd(x, y)) < 1e-5, `score ${(await MEASURES.procrustes.score(x, y)).score} vs SVD ${procrustesBySvd(x, y)}`);
    assert.ok(Math.abs(fast.observed - procrustesBySvd(x, y)) < 1e-4, `observed ${fast.observed} vs SVD ${procrustesBySvd(x, y)}`);
    assert.ok(fast.observed < 0.5 && fast.nullMean > 0.8, `related data: observed ${fast.observed}, null mean ${fast.nullMean}`);
    perms.forEach((p, i) => {
      const svd = procrustesBySvd(x, gatherRows(y, p));
      assert.ok(Math.abs(fast.nullScores![i]! - slow.nullScores![i]!) < 1e-4, `permutation ${i}: fast ${fast.nullScores![i]} vs slow ${slow.nullScores![i]}`);
      assert.ok(Math.abs(fast.nullScores![i]! - svd) < 1e-4, `permutation ${i}: fast ${fast.nullScores![i]} vs SVD ${svd}`);
    });
  });
}

test('procrustes row factor: Z·Zᵀ = X·Xᵀ with at most n columns when rows are few; X itself otherwise', async () => {
  const { x } = decayingPair(12, 40, 8, 2, 3);
  const z = await rowFactor(x);
  assert.ok(z.cols <= 12 && z.rows === 12);
  for (let i = 0; i < 12; i++) {
    for (let j = 0; j < 12; j++) {
      let a = 0, b = 0;
      for (let c = 0; c < x.cols; c++) a += x.data[i * x.cols + c]! * x.data[j * x.cols + c]!;
      for (let c = 0; c < z.cols; c++) b += z.data[i * z.cols + c]! * z.data[j * z.cols + c]!;
      assert.ok(Math.abs(a - b) < 1e-5 * (1 + Math.abs(a)), `(${i}, ${j}): ${a} vs ${b}`);
    }
  }
  const tall = randomMat(30, 8, 4);
  assert.equal(await rowFactor(tall), tall);
});

test('procrustes fast null on the reference cases\' given permutations equals the from-scratch scores', async () => {
  for (const c of similarityCases()) {
    const x = toMat(c.R), y = toMat(c.Rp);
    const fast = await permutationNull(MEASURES.procrustes, x, y, { permutations: c.permutations, keepScores: true });
    c.permutations.forEach((p, i) => {
      const scratch = procrustesBySvd(x, gatherRows(y, p));
      assert.ok(Math.abs(fast.nullScores![i]! - scratch) < 1e-4, `${c.name} permutation ${i}: fast ${fast.nullScores![i]} vs ${scratch}`);
    });
  }
});

test('a null whose spread is only rounding (a saturated SVCCA: every score 1) gives no effect', async () => {
  const { x, y } = independentPair(12, 40, 40, 3);
  const r = await permutationNull(MEASURES.svcca, x, y, { permutations: 30, seed: 1 });
  assert.equal(r.saturated, true);
  assert.match(r.saturatedReason!, /kept 11 and 11 directions of 12 rows/);
  assert.ok(r.nullSd < 1e-6 && Math.abs(r.nullMean - 1) < 1e-6, `null ${r.nullMean} ± ${r.nullSd}`);
  assert.equal(r.effect, null);
  assert.equal(effectSize(1, 1, 1e-7), null);
  assert.equal(effectSize(1e-4, -1e-4, 5e-5), 4, 'a score near 0 with a real spread keeps its effect');
});

test('skipNullWhenSaturated: a saturated score comes back with its reason and no null; an unsaturated one is unchanged', async () => {
  const sat = independentPair(12, 40, 40, 3);
  const full = await permutationNull(MEASURES.svcca, sat.x, sat.y, { permutations: 30, seed: 1 });
  const skipped = await permutationNull(MEASURES.svcca, sat.x, sat.y, { permutations: 30, seed: 1, skipNullWhenSaturated: true });
  assert.equal(skipped.saturated, true);
  assert.equal(skipped.saturatedReason, full.saturatedReason);
  assert.deepEqual(skipped.extras, full.extras, 'the kept counts from eigenvalues alone are the basis\'s');
  // SVCCA finds its saturation from the eigenvalues (saturationExtras): no basis, no score.
  assert.ok(Number.isNaN(skipped.observed));
  assert.deepEqual([skipped.permutations, skipped.pFloor, skipped.effect], [0, 1, null]);
  assert.ok(Number.isNaN(skipped.nullMean) && Number.isNaN(skipped.nullSd) && Number.isNaN(skipped.p));
  // A measure without saturationExtras learns it from the prepared null and keeps its observed score.
  const knnFull = await permutationNull(MEASURES.knn, sat.x, sat.y, { permutations: 30, seed: 1 });
  const knnSkipped = await permutationNull(MEASURES.knn, sat.x, sat.y, { permutations: 30, seed: 1, skipNullWhenSaturated: true });
  assert.equal(knnFull.saturated, true, 'k-NN with k ≥ ⅔·(n − 1) is saturated');
  assert.deepEqual([knnSkipped.saturated, knnSkipped.observed, knnSkipped.permutations], [true, knnFull.observed, 0]);
  const { x, y } = relatedPair(40, 6, 9, 3);
  const plain = await permutationNull(MEASURES.svcca, x, y, { permutations: 30, seed: 1 });
  const asked = await permutationNull(MEASURES.svcca, x, y, { permutations: 30, seed: 1, skipNullWhenSaturated: true });
  assert.equal(plain.saturated, false);
  assert.deepEqual(asked, plain);
});
