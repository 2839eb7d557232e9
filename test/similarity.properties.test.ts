// Property tests generated from the registry's declarations: every declared invariance holds
// (and every undeclared one really breaks), symmetric measures are symmetric, SVCCA(X, XQ) = 1,
// and the saturation declarations are honest on independent rows: a measure that scores near its
// best on unrelated rows at some shape declares saturation there, a declared shape really scores
// towards the best, and nothing is declared where rows are plentiful.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { MEASURES, MEASURE_NAMES } from '../pipelines/similarity/registry.ts';
import type { Invariances, Measure } from '../pipelines/similarity/types.ts';
import { independentPair, matmul, randomMat, randomOrthogonal, relatedPair } from './similarity.data.ts';

type Transform = (m: Mat, seed: number) => Mat;
const TRANSFORMS: Record<keyof Invariances, Transform> = {
  orthogonal: (m, seed) => matmul(m, randomOrthogonal(m.cols, seed)),
  isotropicScaling: (m) => ({ ...m, data: m.data.map((v) => v * 3.7) }),
  translation: (m, seed) => {
    const shift = randomMat(1, m.cols, seed, 2).data;
    return { ...m, data: m.data.map((v, i) => v + shift[i % m.cols]!) };
  },
  permutationOfColumns: (m) => {
    const order = Array.from({ length: m.cols }, (_, c) => (c * 5 + 3) % m.cols);
    return { ...m, data: m.data.map((_, i) => m.data[Math.floor(i / m.cols) * m.cols + order[i % m.cols]!]!) };
  },
};

function unitTotalVariance(m: Mat): Mat {
  const mean = Array.from({ length: m.cols }, (_, c) => m.data.filter((_, i) => i % m.cols === c).reduce((a, b) => a + b, 0) / m.rows);
  const ss = m.data.reduce((a, v, i) => a + (v - mean[i % m.cols]!) ** 2, 0);
  return { ...m, data: m.data.map((v) => v / Math.sqrt(ss)) };
}

/** Inputs in the range a measure is defined for (the original's SVCCA rule needs total variance near 1 to keep more than one direction). */
function meantFor(m: Measure, pair: { x: Mat; y: Mat }): { x: Mat; y: Mat } {
  // The original's component rule keeps more than one direction only when the total variance
  // (sum of squares of the centred data) is near 1; there rescaling changes the score.
  if (m.name === 'svcca-reference') return { x: unitTotalVariance(pair.x), y: unitTotalVariance(pair.y) };
  return pair;
}

function pairFor(m: Measure, seed: number): { x: Mat; y: Mat } {
  return meantFor(m, relatedPair(48, 7, m.equalWidths ? 7 : 9, seed));
}

/** Independent Gaussian rows from few rows in many dimensions to many rows in few. */
const SHAPES: [n: number, dA: number, dB: number][] = [[6, 16, 24], [12, 64, 48], [20, 256, 256], [40, 64, 64], [48, 12, 16], [200, 16, 24], [1000, 8, 8]];
const PLENTIFUL = SHAPES.at(-1)!;

for (const name of MEASURE_NAMES) {
  const m = MEASURES[name];
  test(`${name}: declared invariances hold on either side, undeclared ones change the score`, async () => {
    const { x, y } = pairFor(m, 11);
    const base = (await m.score(x, y)).score;
    assert.ok(Number.isFinite(base));
    for (const [kind, transform] of Object.entries(TRANSFORMS) as [keyof Invariances, Transform][]) {
      const onY = (await m.score(x, transform(y, 5))).score;
      const onX = (await m.score(transform(x, 6), y)).score;
      if (m.properties.invariances[kind]) {
        assert.ok(Math.abs(onY - base) < 1e-4, `${kind} of y: ${onY} vs ${base}`);
        assert.ok(Math.abs(onX - base) < 1e-4, `${kind} of x: ${onX} vs ${base}`);
      } else {
        assert.ok(Math.abs(onY - base) > 1e-4 || Math.abs(onX - base) > 1e-4, `${name} is declared not invariant to ${kind}, but the score did not move (${base})`);
      }
    }
  });

  test(`${name}: symmetry is as declared`, async () => {
    const { x, y } = relatedPair(48, 7, 7, 21);
    const xy = (await m.score(x, y)).score;
    const yx = (await m.score(y, x)).score;
    if (m.properties.symmetric) assert.ok(Math.abs(xy - yx) < 1e-5, `${xy} vs ${yx}`);
    else assert.ok(Math.abs(xy - yx) > 1e-6, `declared asymmetric but score(x,y) = score(y,x) = ${xy}`);
  });

  if (m.properties.invariances.orthogonal) {
    test(`${name}: score(X, XQ) = score(X, X) for a random orthogonal Q`, async () => {
      const { x } = relatedPair(48, 7, 7, 31);
      const self = (await m.score(x, x)).score;
      const rotated = (await m.score(x, TRANSFORMS.orthogonal(x, 9))).score;
      assert.ok(Math.abs(self - rotated) < 1e-4, `${rotated} vs ${self}`);
      if (name.startsWith('svcca') || name.startsWith('cka')) assert.ok(Math.abs(rotated - 1) < 1e-4, `${name}(X, XQ) = ${rotated}`);
      if (name === 'procrustes') assert.ok(rotated < 1e-3, `procrustes distance ${rotated}`);
    });
  }
}

for (const name of MEASURE_NAMES) {
  const m = MEASURES[name];
  test(`${name}: saturation is declared exactly where unrelated rows score near the best`, async () => {
    const larger = m.properties.largerIsMoreSimilar;
    // "Near the best" for unrelated rows: what no score should reach without a warning.
    const nearBest = (v: number) => (larger ? v >= 0.8 : v <= 0.25);
    // A declared shape must at least lean towards the best (saturation = the baseline is past half-way).
    const leansToBest = (v: number) => (larger ? v >= 0.35 : v <= 0.85);
    const seen: string[] = [];
    for (const [n, dA, dB] of SHAPES) {
      const { x, y } = meantFor(m, independentPair(n, dA, m.equalWidths ? dA : dB, n + dA));
      const r = await m.score(x, y);
      const reason = m.saturation?.(n, r.extras ?? {}, x, y);
      const where = `n = ${n}, d = ${dA}/${m.equalWidths ? dA : dB}: score ${r.score.toFixed(3)}${reason ? `, saturated: ${reason}` : ''}`;
      seen.push(where);
      if (nearBest(r.score)) assert.ok(reason !== undefined, `${name} scores unrelated rows near its best without declaring saturation (${where})`);
      if (reason !== undefined) {
        assert.ok(reason.length > 20, `a reason a reader can act on: ${reason}`);
        assert.ok(leansToBest(r.score), `${name} declares saturation where unrelated rows score far from the best (${where})`);
      }
      if (n === PLENTIFUL[0]) assert.equal(reason, undefined, `${name}: nothing is saturated with plenty of rows (${where})`);
      if (m.saturationExtras) {
        // The shortcut must give the rule what the score's own extras give it.
        const cheap = await m.saturationExtras(x, y);
        for (const [key, v] of Object.entries(cheap)) assert.equal(v, r.extras?.[key], `${name}: saturationExtras ${key} at ${where}`);
        assert.equal(m.saturation?.(n, cheap, x, y), reason, `${name}: the same verdict from saturationExtras (${where})`);
      }
    }
    if (m.saturation) assert.ok(seen.some((s) => s.includes('saturated')), `${name} declares a saturation rule that never fires: ${seen.join('; ')}`);
  });
}

test('every measure declares a sane row minimum and refuses fewer rows', async () => {
  const { permutationNull } = await import('../pipelines/similarity/permutationNull.ts');
  for (const name of MEASURE_NAMES) {
    const m = MEASURES[name];
    assert.ok(m.minRows >= 2);
    const { x, y } = relatedPair(m.minRows - 1, 3, 3, 1);
    await assert.rejects(permutationNull(m, x, y, { permutations: 3 }), new RegExp(`${name} needs at least ${m.minRows}`));
  }
});
