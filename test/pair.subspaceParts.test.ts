import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinCategories, featuresInCategory, readCategoriesFile, validateCategories } from '../pipelines/subspace/categories.ts';
import { pairWithinCategory } from '../pipelines/subspace/pairWithinCategory.ts';
import { topActivations } from '../pipelines/pair/topActivations.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { isUserInputError } from '../pipelines/errors.ts';

test('built-in categories are the paper’s eight, with lower-case keywords', () => {
  const c = builtinCategories();
  assert.deepEqual(Object.keys(c), ['Time', 'Calendar', 'People/Roles', 'Nature', 'Emotions', 'MonthNames', 'Countries', 'Biology']);
  for (const kws of Object.values(c)) assert.ok(kws.length >= 10 && kws.every((k) => k === k.toLowerCase().trim()));
  assert.ok(c.MonthNames!.includes('january') && c.Countries!.includes('france'));
});

test('user categories are validated with errors naming the file and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ufg-cats-'));
  try {
    const write = (name: string, body: string) => (writeFileSync(join(dir, name), body), join(dir, name));
    assert.deepEqual(readCategoriesFile(write('ok.json', '{"Tools": [" Hammer", "saw", "hammer"]}')), { Tools: ['hammer', 'saw'] });
    const cases: [string, RegExp][] = [
      [write('bad.json', '{"Tools": ['), /bad\.json: not valid JSON/],
      [write('arr.json', '["a"]'), /arr\.json: categories must be a JSON object/],
      [write('notlist.json', '{"Tools": "saw"}'), /"Tools" must be a list/],
      [write('num.json', '{"Tools": ["saw", 3]}'), /"Tools": keyword 1 is not a string/],
      [write('empty.json', '{"Tools": []}'), /"Tools" has no keywords/],
      [write('none.json', '{}'), /defines no category/],
      [join(dir, 'missing.json'), /missing\.json: categories file not found/],
    ];
    for (const [file, pattern] of cases) {
      assert.throws(() => readCategoriesFile(file), (e: unknown) => isUserInputError(e) && pattern.test((e as Error).message));
    }
    assert.throws(() => validateCategories({ '': ['x'] }), /empty name/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a feature is in a category when one of its labels equals a keyword, case-insensitively', () => {
  const labels = [['January', 'the'], ['Jan', 'x'], ['dog'], ['MAY']];
  assert.deepEqual(featuresInCategory(labels, ['january', 'may']), [0, 3]);
  assert.deepEqual(featuresInCategory(labels, ['cat']), []);
});

test('streamed top activations equal a sort of each column, ties by position', async () => {
  const T = 97, F = 6;
  const data = Float32Array.from({ length: T * F }, (_, i) => ((i * 37) % 11) - 3);
  const top = await topActivations(matrixSource({ data, rows: T, cols: F }), 4, { tokenChunk: 10, memoryBudgetBytes: 12 * 10 * 4 }); // 4-feature blocks
  for (let f = 0; f < F; f++) {
    const order = Array.from({ length: T }, (_, t) => t).sort((x, y) => data[y * F + f]! - data[x * F + f]! || x - y);
    assert.deepEqual(Array.from(top.positions.subarray(f * 4, f * 4 + 4)), order.slice(0, 4));
  }
});

test('pairing within a category is one-to-one over the category’s features only', async () => {
  const T = 200;
  // A0..A3; B0..B3 where B0≈A2, B1≈A2 (weaker), B2≈A0, B3≈A3 (A3 outside the category).
  let s = 1;
  const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
  const A = new Float32Array(T * 4), B = new Float32Array(T * 4);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < 4; i++) A[t * 4 + i] = Math.sin(t * (i + 1) * 0.37) + noise();
    B[t * 4 + 0] = A[t * 4 + 2]! + noise();
    B[t * 4 + 1] = A[t * 4 + 2]! + 5 * noise();
    B[t * 4 + 2] = A[t * 4 + 0]! + noise();
    B[t * 4 + 3] = A[t * 4 + 3]! + noise();
  }
  const a = matrixSource({ data: A, rows: T, cols: 4 }), b = matrixSource({ data: B, rows: T, cols: 4 });
  const r = await pairWithinCategory(a, b, [0, 1, 2], [0, 1, 2]);
  assert.deepEqual([r.pairsA, r.pairsB], [[2, 0], [0, 2]]);
  assert.ok(r.corr.every((c) => c > 0.9));
  assert.deepEqual(await pairWithinCategory(a, b, [], [0]), { pairsA: [], pairsB: [], corr: [] });
});
