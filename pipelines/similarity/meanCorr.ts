// Mean matched-column Pearson correlation: column c of x against column c of y over the rows,
// averaged (equal widths only). A constant column correlates 0. O(n·d): no kernel needed.
//
// Null: the column means and norms do not change when the rows of y are permuted, so both sides
// are centred once; a permuted score is one pass of products over the rows.
import type { Mat } from '../kernels/gemm.ts';
import type { Measure, PreparedNull } from './types.ts';

interface Centred {
  /** Column-centred copy (f64), row-major. */
  data: Float64Array;
  /** Σ_i centred[i, c]² per column. */
  ss: Float64Array;
}

function centredColumns(m: Mat): Centred {
  const n = m.rows, d = m.cols;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c]! += m.data[i * d + c]!;
  for (let c = 0; c < d; c++) mean[c]! /= n;
  const data = new Float64Array(n * d);
  const ss = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      const v = m.data[i * d + c]! - mean[c]!;
      data[i * d + c] = v;
      ss[c]! += v * v;
    }
  }
  return { data, ss };
}

/** Mean over columns of corr(x[:, c], y[order[i], c]) (the identity order: the plain score). */
function meanCorrOf(x: Centred, y: Centred, n: number, d: number, order?: ArrayLike<number>): number {
  const sxy = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const xo = i * d, yo = (order ? order[i]! : i) * d;
    for (let c = 0; c < d; c++) sxy[c]! += x.data[xo + c]! * y.data[yo + c]!;
  }
  let total = 0;
  for (let c = 0; c < d; c++) total += x.ss[c]! > 0 && y.ss[c]! > 0 ? sxy[c]! / Math.sqrt(x.ss[c]! * y.ss[c]!) : 0;
  return total / d;
}

export const meanCorr: Measure = {
  name: 'mean-corr',
  description: 'mean Pearson correlation of matched columns (equal widths)',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: false, isotropicScaling: true, translation: true, permutationOfColumns: false } },
  minRows: 3,
  equalWidths: true,
  async score(x, y) {
    return { score: meanCorrOf(centredColumns(x), centredColumns(y), x.rows, x.cols) };
  },
  async prepareNull(x, y): Promise<PreparedNull> {
    const cx = centredColumns(x), cy = centredColumns(y);
    return {
      batchSize: 16,
      scorePermuted: async (perms) => Float64Array.from(perms, (p) => meanCorrOf(cx, cy, x.rows, x.cols, p)),
    };
  },
};
