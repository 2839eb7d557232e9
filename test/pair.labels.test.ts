import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topTokenLabels, topWordLabels, wholeWordAt } from '../pipelines/pair/labels.ts';
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
  assert.deepEqual(topTokenLabels(top, tokens), [[' c', ' a'], [' b', ' d']]);
  assert.deepEqual(topWordLabels(top, [' Jan', 'uary', ' x', ' y']), [['x', 'January'], ['January', 'y']]);
});

test('keyword filter: no non-concept token on either side, and at least one shared top token', () => {
  const nc = new Set(NONCONCEPT_TOKENS);
  assert.equal(passesKeywordFilter([' dog', ' cat'], [' cat', ' cow'], nc), true);
  assert.equal(passesKeywordFilter([' dog', ' cat'], [' cow'], nc), false);
  assert.equal(passesKeywordFilter([' dog', '.'], [' dog'], nc), false);
  assert.equal(passesKeywordFilter([' dog'], [' dog', '<|endoftext|>'], nc), false);
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
