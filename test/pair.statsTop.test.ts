// The pairing takes each feature's top activations from the layer's feature statistics instead
// of tracking them in every block of the correlation: for SAE sources over the same rows, in
// either encode mode, the labels, pairs and stored tops are exactly those the tracking gives; a
// top of another size than the label rule needs is not used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { pairAndFilterLayer } from '../pipelines/pair/pairLayer.ts';
import { computeFeatureStats } from '../pipelines/sae/featureStats.ts';
import { residualMatrix, saeActivationSource } from '../pipelines/sae/activationSource.ts';
import type { EncodeMode, Sae } from '../pipelines/sae/types.ts';
import { randomSae, randomX } from './sae.data.ts';

const T = 300;
const WORDS = [' river', ' king', ' dog', ' the', ' March', ' blue', ' saw'];
const TOKENS = Array.from({ length: T }, (_, t) => WORDS[(t * 5 + (t >> 3)) % WORDS.length]!);

function residuals(seed: number, d: number): Mat {
  const x = randomX(seed, T, d);
  // Exact duplicate rows far apart: equal activations, ties that only the position breaks.
  for (const dup of [40, 170, 260]) x.data.copyWithin(dup * d, 7 * d, 8 * d);
  return x;
}

function chunks(x: Mat, size: number): Mat[] {
  const out: Mat[] = [];
  for (let t0 = 0; t0 < x.rows; t0 += size) {
    const t1 = Math.min(x.rows, t0 + size);
    out.push(mat(t1 - t0, x.cols, x.data.slice(t0 * x.cols, t1 * x.cols)));
  }
  return out;
}

async function statsTop(sae: Sae, x: Mat, mode: EncodeMode) {
  const s = await computeFeatureStats(sae, chunks(x, 70), { mode, topK: 5, blockFeatures: 13 });
  return { k: s.topK, values: s.topValues, positions: s.topPositions };
}

test('pairing with the feature statistics\' top activations equals pairing that tracks them', async () => {
  const cases: [Sae, Sae][] = [
    [randomSae(1, 12, 200, { kind: 'relu' }), randomSae(2, 16, 240, { kind: 'relu' })],
    [randomSae(3, 12, 200, { kind: 'topk', k: 6 }), randomSae(4, 16, 240, { kind: 'topk', k: 8 })],
  ];
  const xa = residuals(5, 12), xb = residuals(6, 16);
  for (const [saeA, saeB] of cases) {
    for (const mode of ['pre', 'post'] as const) {
      const a = saeActivationSource(saeA, residualMatrix(xa), mode), b = saeActivationSource(saeB, residualMatrix(xb), mode);
      // 64 × 64 feature blocks over 64-token chunks.
      const opts = { tokenChunk: 64, memoryBudgetBytes: 250_000 };
      const tracked = await pairAndFilterLayer(a, b, TOKENS, opts);
      const top = { a: await statsTop(saeA, xa, mode), b: await statsTop(saeB, xb, mode) };
      const given = await pairAndFilterLayer(a, b, TOKENS, { ...opts, top });
      const what = `${saeA.activation.kind}/${mode}`;
      assert.deepEqual(given.pairing.topA, tracked.pairing.topA, `${what}: top activations of A`);
      assert.deepEqual(given.pairing.topB, tracked.pairing.topB, `${what}: top activations of B`);
      assert.deepEqual([given.topTokensA, given.topTokensB], [tracked.topTokensA, tracked.topTokensB], `${what}: labels`);
      assert.deepEqual([given.pairsA, given.pairsB, given.counts], [tracked.pairsA, tracked.pairsB, tracked.counts], `${what}: pairs`);
      assert.deepEqual([tracked.pairing.plan.blockA, tracked.pairing.plan.blockB], [64, 64], `${what}: the correlation ran in several blocks`);
      // A rule that needs 7 activations per feature cannot use a top-5: the correlation tracks its own.
      const seven = await pairAndFilterLayer(a, b, TOKENS, { ...opts, top, minActivations: 7 });
      assert.equal(seven.pairing.topA!.k, 7);
    }
  }
});
