// Feature groups paired among themselves inside the whole-space correlation (`within`): each
// group's best A for each of its B features equals what a correlation of the group's features
// alone finds, over several rows and B blocks, for dense and SAE sources; and the category pairs
// made from it are pairWithinCategory's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featureSubsetSource, matrixSource, type ActivationSource } from '../pipelines/pair/activationSource.ts';
import { correlateFeatures, type FeatureGroup, type GroupBest } from '../pipelines/pair/streamingCorrelation.ts';
import { residualMatrix, saeActivationSource } from '../pipelines/sae/activationSource.ts';
import { categoryPairsFrom, pairWithinCategory } from '../pipelines/subspace/pairWithinCategory.ts';
import { randomSae, randomX } from './sae.data.ts';

const T = 300;
// 64 × 64 feature blocks over 64-token chunks: a group spans several rows and B blocks.
const OPTS = { tokenChunk: 64, memoryBudgetBytes: 250_000 };

function groups(FA: number, FB: number): FeatureGroup[] {
  const every = (n: number, step: number, from = 0) => Array.from({ length: Math.ceil((n - from) / step) }, (_, i) => from + i * step);
  return [
    { featuresA: every(FA, 3), featuresB: every(FB, 5) },
    // Overlaps the first; crosses block edges.
    { featuresA: every(FA, 7, 60), featuresB: every(FB, 2, 62) },
    { featuresA: [FA - 1], featuresB: [0, FB - 1] },
    { featuresA: [], featuresB: [1, 2] },
    { featuresA: [4, 5], featuresB: [] },
  ];
}

async function checkWithin(a: ActivationSource, b: ActivationSource, what: string): Promise<void> {
  const gs = groups(a.numFeatures, b.numFeatures);
  const whole = await correlateFeatures(a, b, { ...OPTS, within: gs });
  assert.ok(whole.plan.blockA < a.numFeatures && whole.plan.blockB < b.numFeatures, `${what}: several rows and B blocks`);
  assert.equal(whole.within?.length, gs.length);
  for (const [gi, g] of gs.entries()) {
    const w: GroupBest = whole.within![gi]!;
    if (g.featuresA.length === 0 || g.featuresB.length === 0) {
      assert.ok(w.corrForEachB.every((c) => c === -Infinity), `${what} group ${gi}: nothing to pair`);
      continue;
    }
    const own = await correlateFeatures(featureSubsetSource(a, g.featuresA), featureSubsetSource(b, g.featuresB), OPTS);
    assert.deepEqual(Array.from(w.aForEachB), Array.from(own.aForEachB), `${what} group ${gi}: best A of each B`);
    w.corrForEachB.forEach((c, j) => assert.ok(Math.abs(c - own.corrForEachB[j]!) < 1e-5, `${what} group ${gi} B ${j}: ${c} vs ${own.corrForEachB[j]}`));
    const pairs = categoryPairsFrom(g.featuresA, g.featuresB, w);
    const direct = await pairWithinCategory(a, b, g.featuresA, g.featuresB, OPTS);
    assert.deepEqual([pairs.pairsA, pairs.pairsB], [direct.pairsA, direct.pairsB], `${what} group ${gi}: category pairs`);
    assert.ok(pairs.pairsA.length > 0);
  }
  // The whole-space result is unchanged by the groups.
  const plain = await correlateFeatures(a, b, OPTS);
  assert.deepEqual({ ...whole, within: undefined }, { ...plain, within: undefined });
}

test('groups paired inside the whole correlation equal their own correlations (dense and SAE sources)', async () => {
  await checkWithin(matrixSource(randomX(21, T, 150)), matrixSource(randomX(22, T, 170)), 'dense');
  const sa = saeActivationSource(randomSae(23, 12, 200, { kind: 'relu' }), residualMatrix(randomX(24, T, 12)), 'pre');
  const sb = saeActivationSource(randomSae(25, 16, 240, { kind: 'topk', k: 8 }), residualMatrix(randomX(26, T, 16)), 'post');
  await checkWithin(sa, sb, 'SAE');
});

test('feature groups must list distinct ascending features of their side', async () => {
  const a = matrixSource(randomX(31, 50, 10)), b = matrixSource(randomX(32, 50, 10));
  await assert.rejects(correlateFeatures(a, b, { within: [{ featuresA: [3, 1], featuresB: [0] }] }), /feature group 0: features must be distinct, ascending/);
  await assert.rejects(correlateFeatures(a, b, { within: [{ featuresA: [1], featuresB: [10] }] }), /below 10 \(A\) and 10 \(B\)/);
});
