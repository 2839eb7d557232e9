// Checks every measure needs before it runs: paired rows, enough of them and not more than fit
// in memory, equal widths where columns are matched, finite values. The CLI checks files first and names them; these messages
// are for programmatic callers.
import { UserInputError } from '../errors.ts';
import type { Mat } from '../kernels/gemm.ts';
import type { Measure } from './types.ts';

export function checkPairedInput(measure: Measure, x: Mat, y: Mat): void {
  if (x.rows !== y.rows) throw new UserInputError(`${measure.name}: the two sides must have the same rows (paired), got ${x.rows} and ${y.rows}`);
  if (x.rows < measure.minRows) throw new UserInputError(`${measure.name} needs at least ${measure.minRows} paired rows, got ${x.rows}`);
  if (x.cols < 1 || y.cols < 1) throw new UserInputError(`${measure.name}: each side needs at least one column`);
  if (measure.equalWidths && x.cols !== y.cols) throw new UserInputError(`${measure.name} matches columns one to one and needs equal widths, got ${x.cols} and ${y.cols}`);
  const tooMany = measure.sizeLimit?.(x.rows);
  if (tooMany) throw new UserInputError(tooMany);
  for (const [side, m] of [['x', x], ['y', y]] as const) {
    const bad = m.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new UserInputError(`${measure.name}: ${side} has a non-finite value at row ${Math.floor(bad / m.cols)}, column ${bad % m.cols}`);
  }
}
