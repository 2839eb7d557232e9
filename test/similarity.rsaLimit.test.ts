// RSA's memory grows with n²: past the memory budget it refuses with one clear line (the CLI's
// bad-input path) and a sweep records the metric as skipped with that reason, instead of running
// out of memory hours in. Its triangle segments cover every row once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipReason } from '../activities/scores.ts';
import { permutationNull } from '../pipelines/similarity/permutationNull.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { rsaSizeLimit } from '../pipelines/similarity/rsa.ts';
import { SEGMENTS, segmentBounds } from '../pipelines/similarity/triangleDots.ts';
import { DEFAULT_MEMORY_BUDGET } from '../pipelines/pair/blockPlan.ts';
import { isUserInputError } from '../pipelines/errors.ts';

test('RSA refuses more rows than its ranked matrices fit in the memory budget, naming the limit', async () => {
  assert.equal(rsaSizeLimit(8192, 2 ** 30), undefined, '8192 rows need 0.8 GB');
  const msg = rsaSizeLimit(20000, 2 ** 30)!;
  assert.match(msg, /RSA of 20000 paired rows .* needs ~4\.5 GiB, more than the memory budget of 1\.0 GiB \(UFG_MEMORY_BUDGET_MB\): at most 9459 rows fit/);
  const n = Math.ceil(Math.sqrt(DEFAULT_MEMORY_BUDGET / 12)) + 1;
  const x = { data: Float32Array.from({ length: n }, (_, i) => Math.sin(i)), rows: n, cols: 1 };
  const y = { data: Float32Array.from({ length: n }, (_, i) => Math.cos(i)), rows: n, cols: 1 };
  await assert.rejects(permutationNull(MEASURES.rsa, x, y, { permutations: 10 }), (e) => isUserInputError(e) && /at most \d+ rows fit/.test((e as Error).message));
  assert.match(skipReason('rsa', 'rsa', n, x, y)!, /RSA of \d+ paired rows/);
  assert.equal(skipReason('svcca', 'svcca', n, x, y), undefined, 'other measures are not limited');
});

test('the RSA null triangle segments cover rows 1..n-1 once, in order, with about equal areas', () => {
  for (const n of [4, 5, 17, 2000]) {
    const b = segmentBounds(n);
    assert.equal(b.length, SEGMENTS + 1);
    assert.equal(b[0], 1);
    assert.equal(b.at(-1), n);
    for (let s = 0; s < SEGMENTS; s++) assert.ok(b[s]! <= b[s + 1]!);
  }
  const b = segmentBounds(2000);
  const area = (i0: number, i1: number): number => (i1 * (i1 - 1) - i0 * (i0 - 1)) / 2;
  for (let s = 0; s < SEGMENTS; s++) assert.ok(Math.abs(area(b[s]!, b[s + 1]!) / area(1, 2000) - 1 / SEGMENTS) < 0.01);
});
