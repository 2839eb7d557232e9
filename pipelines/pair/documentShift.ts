// The selection-aware null's re-alignment: B's activations shifted against A's by whole
// documents. Document i of A (in row order) meets document (i + s) mod D of B; the two are cut to
// the shorter one's kept length, so every aligned row is a real kept token on both sides (a
// position past the end of one document has no counterpart and is left out). Each feature keeps
// its own activations, only which token of B stands beside which token of A changes.
import { UserInputError } from '../errors.ts';

/** Rows of the unshifted tables that shift s puts side by side: row k of A's side is rowsA[k], of B's rowsB[k]. */
export interface ShiftedRows {
  shift: number;
  rowsA: Int32Array;
  rowsB: Int32Array;
}

/** Runs of equal document id in row order: [first row, length] per document. */
export function documentRuns(docIds: ArrayLike<number>): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let r = 0; r < docIds.length; r++) {
    if (r > 0 && docIds[r] === docIds[r - 1]) runs[runs.length - 1]![1]++;
    else runs.push([r, 1]);
  }
  return runs;
}

/** The aligned rows of shift `shift` (1 ≤ shift < number of documents D: a shift of D is no shift). */
export function shiftedRows(docIds: ArrayLike<number>, shift: number): ShiftedRows {
  const runs = documentRuns(docIds);
  const d = runs.length;
  if (!Number.isInteger(shift) || shift < 1 || shift >= d) {
    throw new UserInputError(`document shift ${shift} needs 1 ≤ shift < the number of documents (${d}); lower similarity.selectionShifts or use a larger corpus`);
  }
  let total = 0;
  for (let i = 0; i < d; i++) total += Math.min(runs[i]![1], runs[(i + shift) % d]![1]);
  const rowsA = new Int32Array(total);
  const rowsB = new Int32Array(total);
  let k = 0;
  for (let i = 0; i < d; i++) {
    const [startA, lenA] = runs[i]!;
    const [startB, lenB] = runs[(i + shift) % d]!;
    for (let t = 0; t < Math.min(lenA, lenB); t++, k++) {
      rowsA[k] = startA + t;
      rowsB[k] = startB + t;
    }
  }
  return { shift, rowsA, rowsB };
}
