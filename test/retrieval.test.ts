// Cross-model retrieval on the planted universe (B's dictionary is a linear image of A's with its
// rows permuted): held-out partners are found first almost always by both maps, while maps fitted
// on shuffled training pairs retrieve at the chance rate 1/|dictionary|; partner ranks match a
// direct computation; pairs that are not planted retrieve like their null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { permutationOf, seededRandom } from '../pipelines/random.ts';
import { partnerRanks } from '../pipelines/retrieval/partnerRanks.ts';
import { crossModelRetrieval, retrievalStats, splitPairs } from '../pipelines/retrieval/retrieval.ts';
import { plantedUniverse } from './fixtures/planted.ts';
import { randomMat } from './similarity.data.ts';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { polarFactor } from '../pipelines/similarity/spectrum.ts';

const OPTS = { trainFraction: 0.5, ridge: 1e-3, shuffles: 20, seed: 3, maps: ['procrustes', 'ridge'] as const };

test('partner ranks equal ranks counted directly from the cosines', async () => {
  const q = randomMat(13, 6, 1), c = randomMat(50, 6, 2);
  const partner = Array.from({ length: 13 }, (_, i) => (i * 7) % 50);
  const ranks = await partnerRanks(q, c, partner);
  const cos = (a: Mat, i: number, b: Mat, j: number) => {
    let d = 0, na = 0, nb = 0;
    for (let k = 0; k < a.cols; k++) {
      const u = a.data[i * a.cols + k]!, v = b.data[j * b.cols + k]!;
      d += u * v; na += u * u; nb += v * v;
    }
    return d / Math.sqrt(na * nb);
  };
  for (let i = 0; i < 13; i++) {
    const own = cos(q, i, c, partner[i]!);
    let above = 0;
    for (let j = 0; j < 50; j++) if (cos(q, i, c, j) > own + 1e-6) above++;
    assert.equal(ranks[i], above + 1, `query ${i}`);
  }
  assert.deepEqual(retrievalStats([1, 2, 11, 1]), { top1: 0.5, top10: 0.75, mrr: (1 + 0.5 + 1 / 11 + 1) / 4 });
});

test('the Newton–Schulz polar factor is U·Vᵀ of the SVD (the Procrustes rotation), square and rectangular', async () => {
  for (const [r, c, seed] of [[6, 6, 1], [5, 9, 2], [9, 4, 3]] as const) {
    const m = randomMat(r, c, seed);
    const svd = new SingularValueDecomposition(new Matrix(Array.from({ length: r }, (_, i) => Array.from(m.data.subarray(i * c, (i + 1) * c)))), { autoTranspose: true });
    const k = Math.min(r, c);
    const uvt = svd.leftSingularVectors.subMatrix(0, r - 1, 0, k - 1).mmul(svd.rightSingularVectors.subMatrix(0, c - 1, 0, k - 1).transpose());
    const q = await polarFactor(m.data, r, c);
    let worst = 0;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) worst = Math.max(worst, Math.abs(q[i * c + j]! - uvt.get(i, j)));
    assert.ok(worst < 1e-4, `${r}×${c}: max |Q − UVᵀ| = ${worst}`);
  }
});

test('planted pairs: held-out top-1 near 1 for both maps; shuffled training pairs near 1/|dictionary|', async () => {
  const u = plantedUniverse({ seed: 5, vocabSize: 1, dA: 12, dB: 18, numShared: 400 });
  const r = await crossModelRetrieval(u.dictA, u.dictB, u.pairs.map(([a]) => a), u.pairs.map(([, b]) => b), OPTS);
  assert.ok(!('skipped' in r));
  assert.equal(r.nTrain, 200);
  assert.equal(r.nTest, 200);
  assert.equal(r.dictionary, 400);
  assert.deepEqual(r.maps.map((m) => m.map), ['procrustes', 'ridge']);
  for (const m of r.maps) {
    const { top1, top10, mrr } = m.scores;
    assert.ok(top1.observed > 0.95, `${m.map}: planted top-1 ${top1.observed}`);
    assert.ok(top10.observed > 0.99 && mrr.observed > 0.95, `${m.map}: top-10 ${top10.observed}, MRR ${mrr.observed}`);
    // Chance: 1/400 for top-1, 10/400 for top-10.
    assert.ok(top1.nullMean < 4 / 400, `${m.map}: shuffled top-1 ${top1.nullMean}`);
    assert.ok(top10.nullMean > 2 / 400 && top10.nullMean < 40 / 400, `${m.map}: shuffled top-10 ${top10.nullMean}`);
    for (const s of [top1, top10, mrr]) {
      assert.equal(s.p, 1 / 21);
      assert.equal(s.permutations, 20);
      assert.equal(s.saturated, false);
    }
    assert.ok(top1.effect !== null && top1.effect > 10, `${m.map}: effect ${top1.effect}`);
  }
});

test('pairs that are not planted retrieve like their shuffled null; too few pairs are skipped', async () => {
  const u = plantedUniverse({ seed: 8, vocabSize: 1, dA: 12, dB: 18, numShared: 300 });
  const wrong = permutationOf(300, seededRandom(4));
  const r = await crossModelRetrieval(u.dictA, u.dictB, u.pairs.map(([a]) => a), u.pairs.map(([a]) => u.permutation[wrong[a]!]!), OPTS);
  assert.ok(!('skipped' in r));
  for (const m of r.maps) {
    const { top1, mrr } = m.scores;
    assert.ok(top1.observed < 0.05, `${m.map}: top-1 of wrong pairs ${top1.observed}`);
    assert.ok(mrr.p > 0.01, `${m.map}: p ${mrr.p}`);
  }
  const few = await crossModelRetrieval(u.dictA, u.dictB, [0, 1, 2], [0, 1, 2], OPTS);
  assert.ok('skipped' in few && /retrieval needs at least 10/.test(few.skipped));
  const split = splitPairs(10, 0.5, 1);
  assert.equal(new Set([...split.train, ...split.test]).size, 10, 'a split is a partition');
  assert.deepEqual(splitPairs(10, 0.5, 1), split, 'seeded');
});
