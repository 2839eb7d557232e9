import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countUnlabelled, DEFAULT_MIN_ACTIVATIONS, LABEL_TOKENS, labelPositions, labelRule, rowsFollow, topKForLabels, topTokenLabels, topWordLabels, wholeWordAt } from '../pipelines/pair/labels.ts';
import { filterPairs, passesKeywordFilter, NONCONCEPT_TOKENS } from '../pipelines/pair/filters.ts';

test('wholeWordAt joins a token with the pieces that continue its word', () => {
  const toks = [' The', ' Jan', 'uary', ' sun', 'rise', ',', ' dog', '.', 'Hello', ' world', "'s", ' end'];
  assert.equal(wholeWordAt(toks, 1), 'January');
  assert.equal(wholeWordAt(toks, 2), 'January');
  assert.equal(wholeWordAt(toks, 3), 'sunrise');
  assert.equal(wholeWordAt(toks, 4), 'sunrise');
  assert.equal(wholeWordAt(toks, 5), ',');
  assert.equal(wholeWordAt(toks, 6), 'dog');
  assert.equal(wholeWordAt(toks, 8), 'Hello', 'a word after punctuation does not join it');
  assert.equal(wholeWordAt(toks, 9), "world's");
  assert.equal(wholeWordAt(['Ġcat', 'Ġdog', 'gy'], 2), 'doggy', 'byte-level space marker starts a word');
  assert.equal(wholeWordAt(['▁May', 'be', '▁not'], 0), 'Maybe');
  assert.throws(() => wholeWordAt(toks, 99), /outside/);
});

test('labels come from the top positions, highest first', () => {
  const tokens = [' a', ' b', ' c', ' d'];
  const top = { k: 2, values: Float32Array.of(3, 2, 5, 1), positions: Int32Array.of(2, 0, 1, 3) };
  const rule = labelRule('described', 2);
  assert.deepEqual(topTokenLabels(top, tokens, rule), [[' c', ' a'], [' b', ' d']]);
  assert.deepEqual(topWordLabels(top, [' Jan', 'uary', ' x', ' y'], rule), [['x', 'January'], ['January', 'y']]);
});

test('described labels take only firing positions and need minActivations of them; reference labels take the top k, zeros included', () => {
  const tokens = [' a', ' b', ' c', ' d', ' e', ' f'];
  // k = 5. Feature 0 fires at 5 positions; feature 1 at 2 (then zeros at positions 0, 1, 3);
  // feature 2 never fires.
  const top = {
    k: 5,
    values: Float32Array.of(5, 4, 3, 2, 1, 0.7, 0.2, 0, 0, 0, 0, 0, 0, 0, 0),
    positions: Int32Array.of(5, 4, 3, 2, 1, 4, 2, 0, 1, 3, 0, 1, 2, 3, 4),
  };
  const described = labelRule('described');
  assert.equal(described.minActivations, DEFAULT_MIN_ACTIVATIONS);
  assert.equal(topKForLabels(described), LABEL_TOKENS);
  assert.deepEqual(labelPositions(top, described), [[5, 4, 3, 2, 1], null, null]);
  const labels = topTokenLabels(top, tokens, described);
  assert.deepEqual(labels, [[' f', ' e', ' d', ' c', ' b'], null, null]);
  assert.equal(countUnlabelled(labels), 2);
  // A lower bar labels the rare feature by its two firing positions only, never by zeros.
  assert.deepEqual(labelPositions(top, labelRule('described', 2)), [[5, 4, 3, 2, 1], [4, 2], null]);
  assert.deepEqual(labelPositions(top, labelRule('reference')), [[5, 4, 3, 2, 1], [4, 2, 0, 1, 3], [0, 1, 2, 3, 4]]);
  // A bar above 5 needs a pass that tracks that many activations.
  assert.equal(topKForLabels(labelRule('described', 12)), 12);
  assert.equal(topKForLabels(labelRule('reference', 12)), LABEL_TOKENS);
  assert.throws(() => labelRule('described', 0), /minActivations/);
});

test('whole words stop at document boundaries and at left-out (special) positions', () => {
  // Rows: doc 0 positions 1, 2 (BOS at 0 left out), doc 1 positions 1, 2, then 4 (a special at 3 left out).
  const tokens = ['Jan', 'uary', 'May', 'be', 'x'];
  const follows = rowsFollow(Int32Array.of(0, 0, 1, 1, 1), Int32Array.of(1, 2, 1, 2, 4));
  assert.deepEqual(Array.from(follows), [1, 0, 1, 0, 0]);
  assert.equal(wholeWordAt(tokens, 1), 'JanuaryMaybex', 'without row adjacency, words run across documents');
  assert.equal(wholeWordAt(tokens, 1, follows), 'January');
  assert.equal(wholeWordAt(tokens, 2, follows), 'Maybe');
  assert.equal(wholeWordAt(tokens, 4, follows), 'x');
});

test('keyword filter: no non-concept token on either side, and at least one shared top token', () => {
  const nc = new Set(NONCONCEPT_TOKENS);
  assert.equal(passesKeywordFilter([' dog', ' cat'], [' cat', ' cow'], nc), true);
  assert.equal(passesKeywordFilter([' dog', ' cat'], [' cow'], nc), false);
  assert.equal(passesKeywordFilter([' dog', '.'], [' dog'], nc), false);
  assert.equal(passesKeywordFilter([' dog'], [' dog', '<|endoftext|>'], nc), false);
  assert.equal(passesKeywordFilter(null, [' dog'], nc), false, 'a feature without a label fails');
  assert.equal(passesKeywordFilter([' dog'], null, nc), false);
});

test('filter stages and their counts in both modes on a hand-built case', () => {
  // B0..B4 → A: 0, 0, 1, 2, 2. Correlations chosen so the modes disagree.
  const topTokensA = [[' x'], [' y'], ['.']];
  const topTokensB = [[' x'], [' x'], [' q'], [' z'], [' z']];
  const input = { aForEachB: [0, 0, 1, 2, 2], corrForEachB: [0.3, 0.6, 0.05, 0.8, 0.2], topTokensA, topTokensB };
  const described = filterPairs({ ...input, mode: 'described' });
  // Keywords keep B0, B1 (share ' x'); B2 shares nothing; B3, B4 pair with an A whose top token is '.'.
  assert.deepEqual(described.counts, { total: 5, uniqueA: 3, afterKeywords: 2, afterOneToOne: 1, afterLowCorrelation: 1 });
  assert.deepEqual([described.pairsA, described.pairsB], [[0], [1]], 'best-correlated B of A0 is B1');
  const reference = filterPairs({ ...input, mode: 'reference' });
  // Keyword result discarded; first B per A: B0, B2, B3; B2's 0.05 ≤ 0.1 dropped.
  assert.deepEqual(reference.counts, { total: 5, uniqueA: 3, afterKeywords: 5, afterOneToOne: 3, afterLowCorrelation: 2 });
  assert.deepEqual([reference.pairsA, reference.pairsB], [[0, 2], [0, 3]]);
  const strict = filterPairs({ ...input, mode: 'reference', minCorrelation: 0.3 });
  assert.deepEqual(strict.pairsB, [3], 'a correlation equal to the threshold is dropped');
});
