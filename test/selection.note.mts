// The selection-aware null on the planted-universality fixtures over many seeds: the figures in
// docs/design.md ("The selection-aware null"). Run by hand (about two minutes):
//   node --import tsx test/selection.note.mts [seeds=12] [first seed=1] [case,case…]
import { runSelectionExperiment, type ExperimentCase, type NullOutcome } from './fixtures/selectionExperiment.ts';

const seeds = Number(process.argv[2] ?? 12);
const firstSeed = Number(process.argv[3] ?? 1);
const cases = (process.argv[4]?.split(',') ?? ['planted', 'decoders', 'documents', 'documents-token-geometry']) as ExperimentCase[];
const rate = (xs: (NullOutcome | { skipped: string })[], pred: (p: number) => boolean) => {
  const scored = xs.filter((x): x is NullOutcome => !('skipped' in x));
  return `${scored.filter((x) => pred(x.p)).length}/${scored.length}${scored.length < xs.length ? ` (${xs.length - scored.length} skipped)` : ''}`;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
console.log(`case | metric | pairs (median) | pairs per shift (median) | rows null: p ≤ 0.01 | p ≤ 0.05 | selection null: p ≤ 0.01 | p ≤ 0.05 | p > 0.05`);
for (const c of cases) {
  const runs = [];
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) runs.push(await runSelectionExperiment({ seed, case: c }));
  for (const metric of ['rsa', 'svcca']) {
    const rows = runs.map((r) => r.rows[metric]!);
    const sel = runs.map((r) => r.selection[metric]!);
    console.log(
      [c, metric, median(runs.map((r) => r.pairs)), median(runs.flatMap((r) => r.shiftPairs)), rate(rows, (p) => p <= 0.01), rate(rows, (p) => p <= 0.05), rate(sel, (p) => p <= 0.01), rate(sel, (p) => p <= 0.05), rate(sel, (p) => p > 0.05)].join(' | '),
    );
  }
}
