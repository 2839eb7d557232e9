// Mutual k-NN: for every row, its k nearest other rows by cosine similarity in each space; the
// score is the mean Jaccard index of the two neighbour sets (as the original's
// jaccard_similarity with inner = cosine). Neighbours come from ONNX (block Gram + TopK).
// Null: permuting y's rows relabels its neighbour lists, so they are found once.
// Saturation: with k near n − 1 (k is capped at n − 2) random neighbour sets overlap mostly.
import type { Mat } from '../kernels/gemm.ts';
import { topNeighbours } from './graphs.ts';
import { unitRows } from './matrix.ts';
import { neighbourSaturation } from './saturation.ts';
import type { Measure, MeasureOptions } from './types.ts';

export const DEFAULT_K = 10;
const BLOCK_BYTES = 64 * 2 ** 20;

export function neighbourCount(n: number, opts?: MeasureOptions): number {
  return Math.max(1, Math.min(opts?.k ?? DEFAULT_K, n - 2));
}

/** n×k neighbour indices (row-major), self excluded. */
export async function neighbourLists(x: Mat, k: number): Promise<Int32Array> {
  const n = x.rows;
  const unit = unitRows(x);
  const out = new Int32Array(n * k);
  const block = Math.max(1, Math.floor(BLOCK_BYTES / (4 * n)));
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    const idx = await topNeighbours(unit, r0, r1, k + 1);
    for (let i = r0; i < r1; i++) {
      let w = 0;
      for (let t = 0; t <= k && w < k; t++) {
        const j = Number(idx[(i - r0) * (k + 1) + t]!);
        if (j !== i) out[i * k + w++] = j;
      }
    }
  }
  return out;
}

/** Mean Jaccard of neighbour sets; y's row i is y row perm[i] (identity when perm is omitted). */
export function meanJaccard(nx: Int32Array, ny: Int32Array, n: number, k: number, perm?: Int32Array): number {
  const stamp = new Int32Array(n).fill(-1);
  let inverse: Int32Array | undefined;
  if (perm) {
    inverse = new Int32Array(n);
    for (let i = 0; i < n; i++) inverse[perm[i]!] = i;
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) stamp[nx[i * k + t]!] = i;
    const src = perm ? perm[i]! : i;
    let common = 0;
    for (let t = 0; t < k; t++) {
      const j = ny[src * k + t]!;
      if (stamp[inverse ? inverse[j]! : j] === i) common++;
    }
    total += common / (2 * k - common);
  }
  return total / n;
}

export const knn: Measure = {
  name: 'knn',
  description: 'mutual k-NN: mean Jaccard index of each row\'s k cosine nearest neighbours in the two spaces (k = 10)',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: false, permutationOfColumns: true } },
  minRows: 3,
  async score(x, y, opts) {
    const k = neighbourCount(x.rows, opts);
    return { score: meanJaccard(await neighbourLists(x, k), await neighbourLists(y, k), x.rows, k), extras: { k } };
  },
  async prepareNull(x, y, opts) {
    const k = neighbourCount(x.rows, opts);
    const nx = await neighbourLists(x, k);
    const ny = await neighbourLists(y, k);
    return {
      extras: { k },
      batchSize: 16,
      scorePermuted: async (perms) => Float64Array.from(perms, (p) => meanJaccard(nx, ny, x.rows, k, p)),
    };
  },
  saturation: (n, extras) => neighbourSaturation(n, extras.k ?? neighbourCount(n)),
};
