// Layer correspondence: the best layer of B per layer of A, its effect's bootstrap interval, and
// the spread of the chosen layer over replicates; and the bootstrap resampling it is built on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mat } from '../pipelines/kernels/gemm.ts';
import { bootstrapIndices, bootstrapScores, quantile } from '../pipelines/similarity/bootstrap.ts';
import { layerCorrespondence, type CorrespondenceCell } from '../pipelines/similarity/layerCorrespondence.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { gaussian, seededRandom } from '../pipelines/random.ts';

/** A cell whose bootstrap effects are `effect + spread · N(0, 1)`, `k` of them, seeded. */
function cell(layerA: number, layerB: number, effect: number, spread: number, seed: number, k = 400): CorrespondenceCell {
  const g = gaussian(seededRandom(seed));
  return { layerA, layerB, effect, bootstrapEffects: Array.from({ length: k }, () => effect + spread * g()) };
}

test('each layer of A gets the B layer of largest effect, with the interval of its effect and of the chosen layer', () => {
  const cells = [
    cell(0, 1, 2, 0.5, 1), cell(0, 2, 9, 0.5, 2), cell(0, 3, 3, 0.5, 3),
    // Layer 1 of A: B layers 2 and 3 close, so resamples split between them.
    cell(1, 1, 1, 1, 4), cell(1, 2, 6, 1, 5), cell(1, 3, 6.2, 1, 6),
  ];
  const [r0, r1] = layerCorrespondence(cells, true);
  assert.equal(r0!.layerA, 0);
  assert.equal(r0!.bestB, 2);
  assert.equal(r0!.effect, 9);
  assert.ok(r0!.effectLow < 9 && r0!.effectHigh > 9 && r0!.effectHigh - r0!.effectLow < 2.5, `${r0!.effectLow}..${r0!.effectHigh}`);
  assert.ok(Math.abs(r0!.effectLow - (9 - 1.96 * 0.5)) < 0.15, `2.5% point ${r0!.effectLow}`);
  assert.deepEqual([r0!.bestBLow, r0!.bestBHigh, r0!.bestShare, r0!.candidates], [2, 2, 1, 3]);
  assert.equal(r1!.bestB, 3);
  assert.deepEqual([r1!.bestBLow, r1!.bestBHigh], [2, 3]);
  assert.ok(r1!.bestShare > 0.4 && r1!.bestShare < 0.75, `share ${r1!.bestShare}`);
});

test('for a distance the most negative effect is the best layer; cells without a finite effect are left out', () => {
  const cells = [cell(4, 0, -8, 0.1, 7), cell(4, 1, -2, 0.1, 8), { layerA: 4, layerB: 2, effect: Number.NaN, bootstrapEffects: [] }];
  const [r] = layerCorrespondence(cells, false);
  assert.equal(r!.bestB, 0);
  assert.equal(r!.candidates, 2);
  assert.equal(layerCorrespondence(cells, true)[0]!.bestB, 1);
});

test('bootstrap resamples: seeded, in range, with replacement; scores spread around the observed score', async () => {
  const a = bootstrapIndices(50, 3, 7);
  assert.deepEqual(Array.from(a), Array.from(bootstrapIndices(50, 3, 7)));
  assert.notDeepEqual(Array.from(a), Array.from(bootstrapIndices(50, 3, 8)));
  assert.ok(a.every((i) => i >= 0 && i < 50));
  assert.ok(new Set(a).size < 50, 'some rows drawn twice');
  const g = gaussian(seededRandom(9));
  const x = mat(80, 6), y = mat(80, 6);
  for (let i = 0; i < x.data.length; i++) {
    x.data[i] = g();
    y.data[i] = x.data[i]! + 0.8 * g();
  }
  const observed = (await MEASURES.rsa.score(x, y)).score;
  const boot = await bootstrapScores(MEASURES.rsa, x, y, { resamples: 60, seed: 1 });
  assert.equal(boot.length, 60);
  assert.ok(new Set(boot).size > 50, 'resamples differ');
  assert.ok(quantile(boot, 0.025) < observed + 0.05 && quantile(boot, 0.975) > observed - 0.05, `observed ${observed} vs ${quantile(boot, 0.025)}..${quantile(boot, 0.975)}`);
  assert.equal(quantile([3, 1, 2], 0.5), 2);
  assert.equal(quantile([1, 2], 0.25), 1.25);
});
