// The selection null's pieces: the document-shift alignment (rows of both sides, truncated to the
// shorter document), and its parametric p (Student's t prediction of a new draw), checked against
// tabulated t quantiles and for calibration under the null.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectionMetric } from '../activities/selection.ts';
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { documentRuns, shiftedRows } from '../pipelines/pair/documentShift.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { UserInputError } from '../pipelines/errors.ts';
import { gaussian, seededRandom } from '../pipelines/random.ts';
import { selectionNullScore } from '../pipelines/similarity/selectionNull.ts';
import { studentTUpperTail } from '../pipelines/similarity/studentT.ts';

test('a document shift pairs document i of A with document i+s of B, cut to the shorter', () => {
  // Documents 7 (3 rows), 8 (1 row), 9 (2 rows).
  const docIds = [7, 7, 7, 8, 9, 9];
  assert.deepEqual(documentRuns(docIds), [[0, 3], [3, 1], [4, 2]]);
  const s1 = shiftedRows(docIds, 1);
  // doc0 (rows 0..2) ↔ doc1 (row 3): 1 row; doc1 ↔ doc2: 1 row; doc2 (rows 4, 5) ↔ doc0: 2 rows.
  assert.deepEqual(Array.from(s1.rowsA), [0, 3, 4, 5]);
  assert.deepEqual(Array.from(s1.rowsB), [3, 4, 0, 1]);
  const s2 = shiftedRows(docIds, 2);
  assert.deepEqual(Array.from(s2.rowsA), [0, 1, 3, 4]);
  assert.deepEqual(Array.from(s2.rowsB), [4, 5, 0, 3]);
  for (const bad of [0, 3, 1.5]) assert.throws(() => shiftedRows(docIds, bad), (e) => e instanceof UserInputError && /selectionShifts/.test(e.message));
});

test('Student t upper tail matches tabulated quantiles', () => {
  for (const [t, nu, p] of [[1.812, 10, 0.05], [2.764, 10, 0.01], [2.262, 9, 0.025], [6.314, 1, 0.05], [1.96, 1e6, 0.025]] as const) {
    assert.ok(Math.abs(studentTUpperTail(t, nu) - p) < 2e-4, `t=${t} ν=${nu}: ${studentTUpperTail(t, nu)} vs ${p}`);
    assert.ok(Math.abs(studentTUpperTail(-t, nu) - (1 - p)) < 2e-4);
  }
  assert.equal(studentTUpperTail(0, 4), 0.5);
});

test('selection p: the t prediction of a new draw, direction by largerIsMoreSimilar, rank rule without spread', () => {
  const shifts = [0.1, 0.2, 0.3, 0.2];
  const r = selectionNullScore(0.5, shifts, true);
  const sd = Math.sqrt(((0.1 ** 2 + 0 + 0.1 ** 2 + 0) / 3));
  assert.ok(Math.abs(r.nullMean - 0.2) < 1e-12 && Math.abs(r.nullSd - sd) < 1e-12);
  assert.ok(Math.abs(r.effect! - 0.3 / sd) < 1e-9);
  assert.ok(Math.abs(r.p - studentTUpperTail(0.3 / sd / Math.sqrt(1 + 1 / 4), 3)) < 1e-12);
  assert.equal(r.permutations, 4);
  // A distance: lower is more similar, so the same numbers are now far on the wrong side.
  assert.ok(selectionNullScore(0.5, shifts, false).p > 0.95);
  // No spread: the rank rule, (1 + #{at least as similar}) / (1 + k).
  const flat = selectionNullScore(1, [1, 1, 1], true);
  assert.equal(flat.effect, null);
  assert.equal(flat.p, 1);
  assert.equal(selectionNullScore(2, [1, 1, 1], true).p, 1 / 4);
  assert.throws(() => selectionNullScore(1, [0.5], true), /at least 2/);
});

test('selection p is calibrated when the observed score is one more draw of the null (10 shifts)', () => {
  const gauss = gaussian(seededRandom(11));
  const trials = 4000;
  let at05 = 0, at01 = 0;
  for (let i = 0; i < trials; i++) {
    const draws = Array.from({ length: 11 }, () => 3 + 0.2 * gauss());
    const p = selectionNullScore(draws[0]!, draws.slice(1), true).p;
    if (p <= 0.05) at05++;
    if (p <= 0.01) at01++;
  }
  // Binomial sd at 4000 trials: 0.0034 (5%) and 0.0016 (1%).
  assert.ok(Math.abs(at05 / trials - 0.05) < 0.012, `rate at 0.05: ${at05 / trials}`);
  assert.ok(Math.abs(at01 / trials - 0.01) < 0.006, `rate at 0.01: ${at01 / trials}`);
});

test('selectionMetric: shifts with too few pairs are not scored, fewer than two scored shifts skip the row with the reason', async () => {
  const g = gaussian(seededRandom(5));
  const rows = (n: number, d: number, noise: number, base?: Mat) => {
    const m = mat(n, d);
    for (let i = 0; i < m.data.length; i++) m.data[i] = (base ? base.data[i]! : 0) + noise * g();
    return m;
  };
  const x = rows(40, 6, 1);
  const observed = { x, y: rows(40, 6, 0.3, x) };
  const small = { x: rows(3, 6, 1), y: rows(3, 6, 1) };
  const chance = () => ({ x: rows(20, 6, 1), y: rows(20, 6, 1) });
  const skipped = await selectionMetric('rsa', observed, [small, chance(), small], 'described');
  assert.ok('skipped' in skipped && /1 of 3 document shifts kept enough pairs to score rsa/.test(skipped.skipped), JSON.stringify(skipped));
  assert.equal(skipped.shiftScores[0], null);
  assert.equal(typeof skipped.shiftScores[1], 'number');
  const scored = await selectionMetric('rsa', observed, [small, chance(), chance(), chance()], 'described');
  assert.ok(!('skipped' in scored));
  assert.equal(scored.permutations, 3, 'the null is over the three scored shifts');
  assert.ok(scored.observed > 0.8 && scored.p < 0.01, `observed ${scored.observed}, p ${scored.p}`);
  assert.ok(Math.abs(scored.observed - (await MEASURES.rsa.score(observed.x, observed.y)).score) < 1e-12);
});
