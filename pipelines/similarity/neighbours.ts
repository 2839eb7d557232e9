// Cosine k-nearest-neighbour graphs of the rows of one side, shared by the neighbour measures
// (`knn` Jaccard, `mutual-knn`, `cknna`). The n×n similarities never exist whole: ONNX computes
// them a block of rows at a time and keeps each row's top k (block Gram + TopK, graphs.ts).
// Permuting the rows of y only relabels its neighbour lists, so the nulls find them once.
import type { Mat } from '../kernels/gemm.ts';
import { topNeighbours } from './graphs.ts';
import { unitRows } from './matrix.ts';
import type { Measure, MeasureOptions } from './types.ts';

export const DEFAULT_K = 10;
const BLOCK_BYTES = 64 * 2 ** 20;

/** k of the neighbour measures: `opts.k` (default 10), capped at n − 2 so a neighbour set is never everything. */
export function neighbourCount(n: number, opts?: MeasureOptions): number {
  return Math.max(1, Math.min(opts?.k ?? DEFAULT_K, n - 2));
}

/** Row i's k nearest other rows, best first (row-major n×k), and their cosines with row i. */
export interface NeighbourGraph {
  n: number;
  k: number;
  indices: Int32Array;
  cosines: Float32Array;
}

/** The cosine k-NN graph of x's rows, self excluded. */
export async function neighbourGraph(x: Mat, k: number): Promise<NeighbourGraph> {
  const n = x.rows;
  const unit = unitRows(x);
  const indices = new Int32Array(n * k);
  const cosines = new Float32Array(n * k);
  const block = Math.max(1, Math.floor(BLOCK_BYTES / (4 * n)));
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    const top = await topNeighbours(unit, r0, r1, k + 1);
    for (let i = r0; i < r1; i++) {
      let w = 0;
      for (let t = 0; t <= k && w < k; t++) {
        const at = (i - r0) * (k + 1) + t;
        const j = Number(top.indices[at]!);
        if (j === i) continue;
        indices[i * k + w] = j;
        cosines[i * k + w++] = top.values[at]!;
      }
    }
  }
  return { n, k, indices, cosines };
}

/** The inverse of a permutation (inverse[perm[i]] = i). */
export function inversePermutation(perm: Int32Array): Int32Array {
  const inverse = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) inverse[perm[i]!] = i;
  return inverse;
}

/**
 * |N_x(i) ∩ N_y(i)| for every row i, where y's row i is y row perm[i] (identity when perm is
 * omitted): y's neighbours of perm[i], relabelled through the inverse permutation.
 */
export function sharedNeighbours(gx: NeighbourGraph, gy: NeighbourGraph, perm?: Int32Array): Int32Array {
  const { n, k } = gx;
  const stamp = new Int32Array(n).fill(-1);
  const inverse = perm ? inversePermutation(perm) : undefined;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) stamp[gx.indices[i * k + t]!] = i;
    const src = perm ? perm[i]! : i;
    let common = 0;
    for (let t = 0; t < k; t++) {
      const j = gy.indices[src * k + t]!;
      if (stamp[inverse ? inverse[j]! : j] === i) common++;
    }
    out[i] = common;
  }
  return out;
}

/**
 * A measure that scores the overlap of the two sides' k-NN graphs by `statistic` (rows of y
 * relabelled by the permutation): the graphs are built once per side, so the null only relabels.
 */
export function neighbourMeasure(
  name: Measure['name'],
  description: string,
  statistic: (gx: NeighbourGraph, gy: NeighbourGraph, perm?: Int32Array) => number,
  saturation: (n: number, k: number) => string | undefined,
): Measure {
  return {
    name,
    description,
    properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: false, permutationOfColumns: true } },
    minRows: 3,
    async score(x, y, opts) {
      const k = neighbourCount(x.rows, opts);
      return { score: statistic(await neighbourGraph(x, k), await neighbourGraph(y, k)), extras: { k } };
    },
    async prepareNull(x, y, opts) {
      const k = neighbourCount(x.rows, opts);
      const gx = await neighbourGraph(x, k);
      const gy = await neighbourGraph(y, k);
      return {
        extras: { k },
        batchSize: 16,
        scorePermuted: async (perms) => Float64Array.from(perms, (p) => statistic(gx, gy, p)),
      };
    },
    saturation: (n, extras) => saturation(n, extras.k ?? neighbourCount(n)),
  };
}
