// Permutation nulls: the fast nulls equal the slow recompute-from-scratch null on the same
// permutations; independent data sits inside its null, planted related data beats every
// permutation; p-value rules, seeds, explicit permutations, the paired scorer's two modes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { MEASURES, MEASURE_NAMES } from '../pipelines/similarity/registry.ts';
import { nullPermutations, permutationNull, pValue } from '../pipelines/similarity/permutationNull.ts';
import { seededPermutations } from '../pipelines/similarity/permutations.ts';
import { pairedScorer } from '../pipelines/similarity/pairedScorer.ts';
import { batchFor } from '../pipelines/similarity/svcca.ts';
import { independentPair, relatedPair } from './similarity.data.ts';

for (const name of MEASURE_NAMES.filter((n) => MEASURES[n].prepareNull)) {
  test(`${name}: the fast null equals recomputing every permuted score from scratch`, async () => {
    const { x, y } = relatedPair(40, 6, 9, 3);
    const perms = seededPermutations(40, 12, 5);
    const fast = await permutationNull(MEASURES[name], x, y, { permutations: perms, keepScores: true });
    const slow = await permutationNull(MEASURES[name], x, y, { permutations: perms, keepScores: true, slow: true });
    assert.ok(Math.abs(fast.observed - slow.observed) < 1e-6);
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
});

test('the paired scorer: textbook SVCCA and (1+#)/(1+N) described, the original SVCCA and p in reference mode', async () => {
  const { x, y } = relatedPair(40, 6, 8, 12, 0.05);
  const described = await pairedScorer('svcca', x, y, { mode: 'described', permutations: 20, seed: 3 });
  const reference = await pairedScorer('svcca', x, y, { mode: 'reference', permutations: 20, seed: 3 });
  assert.ok(Math.abs(described.observed - (await MEASURES.svcca.score(x, y)).score) < 1e-9);
  assert.ok(Math.abs(reference.observed - (await MEASURES['svcca-reference'].score(x, y)).score) < 1e-9);
  assert.notEqual(described.observed.toFixed(4), reference.observed.toFixed(4));
  assert.equal(described.p, 1 / 21);
  assert.equal(reference.p, 0);
  const rsaScore = await pairedScorer('rsa', x, y, { mode: 'described', permutations: 20, seed: 3 });
  assert.ok(Math.abs(rsaScore.observed - (await MEASURES.rsa.score(x, y)).score) < 1e-9);
  assert.deepEqual(Object.keys(rsaScore).sort(), ['nullMean', 'nullSd', 'observed', 'p', 'permutations']);
});
