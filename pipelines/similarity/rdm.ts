// Representational (dis)similarity matrices: the n×n row-similarity of one side, kept as its
// packed strict lower triangle (row i holds columns 0..i-1 at offset i(i-1)/2). Built in row
// blocks on ONNX Runtime so no n×n matrix is ever materialised at once.
import type { Mat } from '../kernels/gemm.ts';
import { rdmBlock } from './graphs.ts';
import { rowCorrelationFactors, squaredRowNorms } from './matrix.ts';
import { sharedFloat32 } from './triangleDotsPool.ts';

/** `correlation`: Pearson correlation of rows (the original's inner measure); `euclidean`: distance. */
export type RdmKind = 'correlation' | 'euclidean';

const BLOCK_BYTES = 64 * 2 ** 20;

export function triangleSize(n: number): number {
  return (n * (n - 1)) / 2;
}

export async function lowerTriangle(x: Mat, kind: RdmKind): Promise<Float32Array> {
  const n = x.rows;
  const rows = kind === 'correlation' ? rowCorrelationFactors(x) : x;
  const sq = kind === 'euclidean' ? squaredRowNorms(x) : undefined;
  // Shared, so the RSA null's threads read the ranks made in place from it without a copy.
  const out = sharedFloat32(triangleSize(n));
  const block = Math.max(1, Math.floor(BLOCK_BYTES / (4 * n)));
  for (let r0 = 1; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    // Only columns < r1 are needed for rows < r1.
    const s = await rdmBlock(kind, rows, r0, r1, r1, sq);
    for (let i = r0; i < r1; i++) out.set(s.subarray((i - r0) * r1, (i - r0) * r1 + i), (i * (i - 1)) / 2);
  }
  return out;
}

/** The full symmetric n×n matrix of a packed lower triangle (diagonal 0), for row gathers. */
export function expandSymmetric(tri: Float32Array, n: number): Float32Array {
  const full = sharedFloat32(n * n);
  for (let i = 1; i < n; i++) {
    const base = (i * (i - 1)) / 2;
    for (let j = 0; j < i; j++) {
      const v = tri[base + j]!;
      full[i * n + j] = v;
      full[j * n + i] = v;
    }
  }
  return full;
}
