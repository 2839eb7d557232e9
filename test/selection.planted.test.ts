// The selection-aware null on the planted-universality fixtures (issue 12), a few seeds per case
// (test/selection.note.mts runs 12 for the figures in docs/design.md): it rejects where pairs are
// planted, and does not where the correspondence is destroyed — also in the case built so that
// the filters' selection inflates the row-permutation null, which there rejects far above its
// nominal rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSelectionExperiment, type ExperimentCase, type NullOutcome } from './fixtures/selectionExperiment.ts';

const SEEDS = [1, 2, 3, 4, 5];

async function pValues(c: ExperimentCase, seeds: readonly number[], metric: string) {
  const runs = [];
  for (const seed of seeds) runs.push(await runSelectionExperiment({ seed, case: c }));
  const p = (x: NullOutcome | { skipped: string } | undefined) => {
    assert.ok(x && !('skipped' in x), `${c}: ${metric} not scored: ${JSON.stringify(x)}`);
    return x.p;
  };
  const out = { rows: runs.map((r) => p(r.rows[metric])), selection: runs.map((r) => p(r.selection[metric])), pairs: runs.map((r) => r.pairs), shiftPairs: runs.map((r) => r.shiftPairs) };
  console.log(`${c} ${metric}: pairs ${out.pairs.join(',')}; rows p ${out.rows.map((v) => v.toFixed(3)).join(',')}; selection p ${out.selection.map((v) => v.toPrecision(2)).join(',')}`);
  return out;
}

const fraction = (ps: number[], pred: (p: number) => boolean) => ps.filter(pred).length / ps.length;

test('planted pairs: the selection-aware null rejects (p ≤ 0.01), every seed, RSA and SVCCA', async () => {
  for (const metric of ['rsa', 'svcca']) {
    const r = await pValues('planted', SEEDS.slice(0, 2), metric);
    assert.ok(r.selection.every((p) => p <= 0.01), `${metric}: selection p ${r.selection}`);
    // Each shift re-paired and re-filtered: it keeps far fewer pairs than the planted pairing.
    for (const [i, shifts] of r.shiftPairs.entries()) assert.ok(shifts.every((n) => n < r.pairs[i]! / 4), `shift pairs ${shifts} vs ${r.pairs[i]}`);
  }
});

test('correspondence destroyed (decoders re-planted, or B reading other documents): the selection null does not reject (p > 0.05) in ≥ 90% of seeds', async () => {
  for (const c of ['decoders', 'documents'] as const) {
    const r = await pValues(c, SEEDS, 'rsa');
    assert.ok(fraction(r.selection, (p) => p > 0.05) >= 0.9, `${c}: selection p ${r.selection}`);
  }
});

test('destroyed, with decoders that lean on their tokens: the label filter inflates the row null, not the selection null', async () => {
  const r = await pValues('documents-token-geometry', SEEDS, 'rsa');
  assert.ok(fraction(r.selection, (p) => p > 0.05) >= 0.9, `selection p ${r.selection}`);
  // Nominal rate 5%: two or more rejections of five has probability 2.3% under a valid null.
  assert.ok(fraction(r.rows, (p) => p <= 0.05) >= 0.4, `row-permutation p ${r.rows}`);
});
