// Labels from real activations: a feature that fires at only 2 positions gets no label in the
// default (described) mode, so its pair fails the keyword stage and it joins no semantic
// subspace, and it is counted as unlabelled; under the reference rule (top-5 over all positions,
// zeros included) it is labelled by the tokens where it is 0 and lands in a subspace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { NONCONCEPT_TOKENS, passesKeywordFilter } from '../pipelines/pair/filters.ts';
import { topWordLabels } from '../pipelines/pair/labels.ts';
import { pairAndFilterLayer } from '../pipelines/pair/pairLayer.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { analyseSubspaces } from '../pipelines/subspace/analyseSubspaces.ts';
import { pairedScorer } from '../pipelines/similarity/pairedScorer.ts';

// The corpus opens with month names (where a rare feature's zeros would fall under the reference
// rule); "January" recurs, "March" appears twice more (where the rare feature fires).
const WORDS = [' the', ' king', ' January', ' river', ' dog', ' January', ' king', ' saw', ' the', ' January'];
const TOKENS = [' March', ' April', ' June', ...Array.from({ length: 57 }, (_, i) => WORDS[i % WORDS.length]!)];
TOKENS[20] = ' March';
TOKENS[41] = ' March';
const T = TOKENS.length;

/** T × 3: feature 0 fires on " January" (many positions), 1 only at positions 20 and 41, 2 on " king" (A) / " river" (B). */
function activations(third: string): Mat {
  const F = 3;
  const data = new Float32Array(T * F);
  for (let t = 0; t < T; t++) {
    if (TOKENS[t] === ' January') data[t * F] = 1 + (t % 3) * 0.1;
    if (t === 20) data[t * F + 1] = 3;
    if (t === 41) data[t * F + 1] = 2;
    if (TOKENS[t] === third) data[t * F + 2] = 0.5 + (t % 5) * 0.1;
  }
  return { data, rows: T, cols: F };
}

const A = activations(' king');
const B = activations(' river');
const categories = { Months: ['january', 'march'], Royals: ['king'] };

function decoder(rows: number, seed: number): Mat {
  const data = Float32Array.from({ length: rows * 8 }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  return { data, rows, cols: 8 };
}

async function run(mode: 'described' | 'reference') {
  const r = await pairAndFilterLayer(matrixSource(A), matrixSource(B), TOKENS, { mode, tokenChunk: 16 });
  const subspaces = await analyseSubspaces({
    a: matrixSource(A), b: matrixSource(B), tokens: TOKENS, decoderA: decoder(3, 1), decoderB: decoder(3, 2),
    scorer: pairedScorer, categories, topA: r.pairing.topA!, topB: r.pairing.topB!, labelRule: r.labelRule, mode, permutations: 10,
  });
  return { r, months: subspaces.find((c) => c.category === 'Months')! };
}

test('described: a feature firing at 2 positions has no label, fails the keyword stage, joins no subspace, and is counted', async () => {
  const { r, months } = await run('described');
  assert.deepEqual(r.labelRule, { mode: 'described', minActivations: 5 });
  assert.deepEqual(r.topTokensA[0], [' January', ' January', ' January', ' January', ' January']);
  assert.equal(r.topTokensA[1], null);
  assert.equal(r.topTokensB[1], null);
  assert.deepEqual(r.topTokensA[2], [' king', ' king', ' king', ' king', ' king']);
  assert.deepEqual(r.labelCounts, { unlabelledA: 1, unlabelledB: 1 });
  // The rare pair itself is the best possible match (identical activations) …
  assert.equal(r.pairing.aForEachB[1], 1);
  assert.ok(r.pairing.corrForEachB[1]! > 0.999);
  // … but without labels it is no concept pair: only January ↔ January passes.
  assert.deepEqual(r.counts, { total: 3, uniqueA: new Set(r.pairing.aForEachB).size, afterKeywords: 1, afterOneToOne: 1, afterLowCorrelation: 1 });
  assert.deepEqual([r.pairsA, r.pairsB], [[0], [0]]);
  assert.deepEqual([months.featuresA, months.featuresB], [[0], [0]], 'the rare "March" feature is not in Months');
});

test('reference: the same feature is labelled by the positions where it is 0 and lands in the Months subspace', async () => {
  const { r, months } = await run('reference');
  assert.deepEqual(r.labelCounts, { unlabelledA: 0, unlabelledB: 0 });
  // Its two firing tokens, then the first positions of the corpus, where it is 0.
  assert.deepEqual(r.topTokensA[1], [' March', ' March', ' March', ' April', ' June']);
  assert.equal(passesKeywordFilter(r.topTokensA[1]!, r.topTokensB[1]!, new Set(NONCONCEPT_TOKENS)), true, 'the spurious shared tokens pass the filter the original computes');
  assert.equal(r.counts.afterKeywords, 3, 'the original discards the keyword filter');
  assert.deepEqual([months.featuresA, months.featuresB], [[0, 1], [0, 1]]);
  const words = topWordLabels(r.pairing.topA!, TOKENS, r.labelRule);
  assert.deepEqual(words[1], ['March', 'March', 'March', 'April', 'June']);
});

test('described with minActivations 2: the rare feature is labelled by its two firing positions only', async () => {
  const r = await pairAndFilterLayer(matrixSource(A), matrixSource(B), TOKENS, { mode: 'described', minActivations: 2 });
  assert.deepEqual(r.topTokensA[1], [' March', ' March']);
  assert.deepEqual(r.labelCounts, { unlabelledA: 0, unlabelledB: 0 });
  assert.equal(r.counts.afterKeywords, 2, 'now a March ↔ March concept pair');
});
