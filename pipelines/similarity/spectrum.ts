// Small dense decompositions (d×d eigen, k1×k2 SVD) through ml-matrix, and batched nuclear norms
// through ONNX Newton–Schulz iterations for the thousands of k1×k2 matrices of a null.
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { polarStep } from './graphs.ts';

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as the columns of a d×d matrix, in the order of `values`. */
  vectors: Matrix;
}

export function symmetricEigen(a: ArrayLike<number>, d: number): SymmetricEigen {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m.set(i, j, a[i * d + j]!);
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const order = e.realEigenvalues.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]);
  const vectors = new Matrix(d, d);
  const ev = e.eigenvectorMatrix;
  order.forEach(([, src], dst) => {
    for (let r = 0; r < d; r++) vectors.set(r, dst, ev.get(r, src));
  });
  return { values: Float64Array.from(order, ([v]) => v), vectors };
}

export function toMatrix(data: ArrayLike<number>, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]!);
  return m;
}

/** Singular values, largest first (min(rows, cols) of them). */
export function singularValues(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (rows === 0 || cols === 0) return new Float64Array(0);
  const svd = new SingularValueDecomposition(toMatrix(data, rows, cols), { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
  return Float64Array.from(svd.diagonal.slice(0, Math.min(rows, cols)));
}

const QUINTIC_STEPS = 8;
const MAX_CUBIC_STEPS = 30;

/**
 * Nuclear norms (sums of singular values) of a batch of r×c matrices whose singular values lie
 * in [0, 1] (canonical correlations). Newton–Schulz drives every singular value σ to 1 while the
 * singular vectors stay fixed, so trace(Xᵀ·M) → Σσ. A σ too small to be lifted within the steps
 * (below ~1e-4) contributes at most σ to the error. Each matrix's norm is its trace at the first
 * cubic step that moved it by no more than `tol`·min(r, c) (+1e-7 relative): decided per matrix,
 * so a matrix gets the same norm whichever others share its batch (the null's observed score is
 * the identity permutation's, scored alone). `quinticSteps` (default 8) lifts σ ≥ ~3.44^-steps
 * into the cubic's fast range; a caller that knows its σ are not far below 1 can pass fewer.
 */
export async function nuclearNormsBatched(m: Float32Array, batch: number, r: number, c: number, tol = 1e-7, quinticSteps = QUINTIC_STEPS): Promise<Float64Array> {
  const dims: [number, number, number] = [batch, r, c];
  let x = m;
  for (let s = 0; s < quinticSteps; s++) x = (await polarStep('quintic', x, m, dims)).x;
  const out = new Float64Array(batch);
  const done = new Uint8Array(batch);
  let open = batch;
  let prev: Float32Array | undefined;
  for (let s = 0; s < MAX_CUBIC_STEPS && open > 0; s++) {
    const step = await polarStep('cubic', x, m, dims);
    x = step.x;
    for (let b = 0; b < batch; b++) {
      if (done[b]) continue;
      if (prev && Math.abs(step.trace[b]! - prev[b]!) <= tol * Math.min(r, c) + 1e-7 * Math.abs(step.trace[b]!)) {
        out[b] = step.trace[b]!;
        done[b] = 1;
        open--;
      } else {
        out[b] = step.trace[b]!;
      }
    }
    prev = step.trace;
  }
  return out;
}

/**
 * The orthogonal polar factor U·Vᵀ of an r×c matrix M = U·Σ·Vᵀ (the orthogonal Procrustes
 * rotation, semi-orthogonal when r ≠ c) by the Newton–Schulz steps above, on ONNX: M scaled to
 * unit Frobenius norm (so every σ ≤ 1), quintic steps, then cubic steps until trace(Xᵀ·M) stops
 * moving. A direction whose σ is below ~3.44^-steps of ‖M‖_F is not lifted and stays near 0 in the
 * result (it carries almost none of M). No r×c SVD in JS (ml-matrix needs ~12 s at 512×512).
 */
export async function polarFactor(m: ArrayLike<number>, r: number, c: number, tol = 1e-7): Promise<Float32Array> {
  let ss = 0;
  for (let i = 0; i < m.length; i++) ss += m[i]! * m[i]!;
  if (!(ss > 0)) return new Float32Array(m.length);
  const inv = 1 / Math.sqrt(ss);
  const scaled = Float32Array.from(m, (v) => v * inv);
  const dims: [number, number, number] = [1, r, c];
  let x: Float32Array = scaled;
  for (let s = 0; s < QUINTIC_STEPS; s++) x = (await polarStep('quintic', x, scaled, dims)).x;
  let prev: number | undefined;
  for (let s = 0; s < MAX_CUBIC_STEPS; s++) {
    const step = await polarStep('cubic', x, scaled, dims);
    x = step.x;
    const t = step.trace[0]!;
    if (prev !== undefined && Math.abs(t - prev) <= tol * Math.min(r, c) + 1e-7 * Math.abs(t)) break;
    prev = t;
  }
  return x;
}
