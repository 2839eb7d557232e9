// One-to-one assignment maximising total weight: the shortest-augmenting-path Hungarian method
// with potentials (Jonker–Volgenant style), O(n²·m) on typed arrays. Pools are at most a few
// thousand features, where this is seconds in JS; the correlation itself is done on ONNX Runtime.
import type { Mat } from '../kernels/gemm.ts';

export interface Assignment {
  /** colForRow[i] = the column assigned to row i, or -1 when rows outnumber columns. */
  colForRow: Int32Array;
  /** rowForCol[j] = the row assigned to column j, or -1. */
  rowForCol: Int32Array;
  /** Sum of the assigned weights. */
  total: number;
}

/** rows ≤ cols: every row gets a distinct column. Minimises Σ cost[i, col(i)]. */
function minCostAssignment(cost: Float64Array, n: number, m: number): Int32Array {
  const u = new Float64Array(n + 1), v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row (1-based) matched to column j, 0 = free
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      const row = (i0 - 1) * m;
      const ui = u[i0]!;
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[row + j - 1]! - ui - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const colForRow = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) colForRow[p[j]! - 1] = j - 1;
  return colForRow;
}

/** Maximum-total-weight one-to-one assignment between the rows and columns of `w`. */
export function maxWeightAssignment(w: Mat): Assignment {
  const { rows, cols } = w;
  for (let i = 0; i < w.data.length; i++) {
    if (!Number.isFinite(w.data[i]!)) throw new Error(`assignment weights must be finite (entry ${i} is ${w.data[i]})`);
  }
  const transpose = rows > cols;
  const n = transpose ? cols : rows, m = transpose ? rows : cols;
  const cost = new Float64Array(n * m);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) cost[transpose ? j * m + i : i * m + j] = -w.data[i * cols + j]!;
  const matched = minCostAssignment(cost, n, m);
  const colForRow = new Int32Array(rows).fill(-1), rowForCol = new Int32Array(cols).fill(-1);
  for (let k = 0; k < n; k++) {
    const other = matched[k]!;
    const [i, j] = transpose ? [other, k] : [k, other];
    colForRow[i] = j;
    rowForCol[j] = i;
  }
  let total = 0;
  for (let i = 0; i < rows; i++) if (colForRow[i]! >= 0) total += w.data[i * cols + colForRow[i]!]!;
  return { colForRow, rowForCol, total };
}
