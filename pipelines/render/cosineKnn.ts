// Exact k nearest neighbours under cosine distance, for UMAP on decoder directions. The n×n
// similarity matrix is one ONNX Runtime matrix product (n = 2 000, d = 2 048 is 16 GFLOP, far
// too slow for umap-js's JS distance loops); only the per-row top-k selection runs in JS.
import { gemm, mat, type Mat } from '../kernels/gemm.ts';

const BLOCK = 1024;

export interface Knn {
  indices: number[][];
  distances: number[][];
}

/** Rows scaled to unit length; an all-zero row stays zero (distance 1 to everything). */
export function normalizeRows(m: Mat): Mat {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += m.data[i * m.cols + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = m.data[i * m.cols + j]! * inv;
  }
  return mat(m.rows, m.cols, out);
}

/** k nearest rows of each row (itself first, at distance 0), cosine distance = 1 − cos. */
export async function cosineKnn(rows: Mat, k: number): Promise<Knn> {
  const n = rows.rows;
  if (k > n) throw new Error(`cosineKnn: k=${k} exceeds ${n} rows`);
  const unit = normalizeRows(rows);
  const indices: number[][] = [];
  const distances: number[][] = [];
  const bestIdx = new Int32Array(k);
  const bestSim = new Float64Array(k);
  // Row blocks bound the similarity buffer to BLOCK × n floats whatever n is.
  let sim: Mat = mat(0, n);
  let blockStart = 0;
  for (let i = 0; i < n; i++) {
    if (i === blockStart + sim.rows) {
      blockStart = i;
      const end = Math.min(n, i + BLOCK);
      sim = await gemm(mat(end - i, unit.cols, unit.data.subarray(i * unit.cols, end * unit.cols)), unit, { transB: true });
    }
    // Insertion into a sorted buffer of size k: O(n·k) per row, fine for k ≈ 15.
    let filled = 0;
    const row = (i - blockStart) * n;
    for (let j = 0; j < n; j++) {
      const s = j === i ? Infinity : sim.data[row + j]!;
      if (filled === k && s <= bestSim[k - 1]!) continue;
      let pos = filled < k ? filled++ : k - 1;
      while (pos > 0 && bestSim[pos - 1]! < s) {
        bestSim[pos] = bestSim[pos - 1]!;
        bestIdx[pos] = bestIdx[pos - 1]!;
        pos--;
      }
      bestSim[pos] = s;
      bestIdx[pos] = j;
    }
    indices.push(Array.from(bestIdx));
    distances.push(Array.from(bestSim, (s, t) => (bestIdx[t] === i ? 0 : Math.max(0, 1 - s))));
  }
  return { indices, distances };
}
