// The singular-direction basis that SVCCA and PWCCA start from: centre the columns over the rows,
// eigen-decompose the d×d Gram (f64, ONNX), keep the top directions by a rule, and map them to
// an orthonormal n×k basis U = Xc·V·S⁻¹ of the kept score space (ONNX). Canonical correlations
// between two sides are then the singular values of UxᵀUy. With fewer rows than columns (a
// semantic subspace's pairs) the n×n row Gram is decomposed instead: its eigenvectors are U
// itself and V = Xcᵀ·U·S⁻¹, and the eigen-solve (plain JS, cubic) costs (n/d)³ of the d×d one —
// at d = 768 that one alone takes seconds, whatever n is.
import { Matrix } from 'ml-matrix';
import { UserInputError } from '../errors.ts';
import type { Mat } from '../kernels/gemm.ts';
import { centredGram, crossProduct, project } from './graphs.ts';
import { symmetricEigen } from './spectrum.ts';
import { symmetricEigenvalues } from './symmetricEigenvalues.ts';

/**
 * - `variance99`: the fewest directions whose variance reaches 99% of the total (textbook SVCCA);
 * - `reference`: the original code's rule, cumsum(var)/total ≥ 0.99·total — a fraction compared
 *   with 0.99 × the total variance, so any input with total variance above ~1.01 keeps exactly
 *   one direction (quirk #1 of docs/design.md);
 * - `rank`: every direction that is not numerically zero (PWCCA's plain CCA).
 */
export type ComponentRule = 'variance99' | 'reference' | 'rank';

/** Directions with a singular value below this fraction of the largest are numerically zero for f32 input. */
const ZERO_SINGULAR = 1e-5;

export interface SingularBasis {
  /** n×k, orthonormal columns: the kept directions of the centred rows. */
  u: Mat;
  k: number;
  /** Kept singular values, largest first. */
  s: Float64Array;
  /** d×k, the kept right singular vectors (columns). */
  v: Matrix;
  /** Column means that were removed. */
  mean: Float64Array;
}

export function keptComponents(variances: Float64Array, rule: ComponentRule): number {
  const total = variances.reduce((a, b) => a + Math.max(0, b), 0);
  const nonZero = variances.filter((v) => v > 0 && Math.sqrt(v) > ZERO_SINGULAR * Math.sqrt(Math.max(0, variances[0]!))).length;
  let k = nonZero;
  if (rule !== 'rank') {
    let cum = 0;
    let found = -1;
    for (let i = 0; i < variances.length; i++) {
      cum += Math.max(0, variances[i]!);
      const fraction = cum / total;
      if (rule === 'variance99' ? fraction >= 0.99 : fraction >= 0.99 * total) {
        found = i;
        break;
      }
    }
    // np.argmax of an all-false mask is 0: the reference rule then keeps one direction.
    k = rule === 'reference' ? Math.max(0, found) + 1 : found < 0 ? variances.length : found + 1;
  }
  return Math.max(1, Math.min(k, nonZero));
}

function checkVariance(top: number, rows: number): void {
  if (!(top > 0)) throw new UserInputError(`all ${rows} rows are identical: there is no variance to compare`);
}

/** How many directions `rule` keeps of x's centred rows: singularBasis's k, from eigenvalues alone. */
export async function keptCount(x: Mat, rule: ComponentRule): Promise<number> {
  const byRows = x.rows < x.cols;
  const values = symmetricEigenvalues((await centredGram(x, byRows)).gram, byRows ? x.rows : x.cols);
  checkVariance(values[0]!, x.rows);
  return keptComponents(values, rule);
}

export async function singularBasis(x: Mat, rule: ComponentRule): Promise<SingularBasis> {
  const byRows = x.rows < x.cols;
  const { gram, mean } = await centredGram(x, byRows);
  const eig = symmetricEigen(gram, byRows ? x.rows : x.cols);
  checkVariance(eig.values[0]!, x.rows);
  const k = keptComponents(eig.values, rule);
  const s = Float64Array.from(eig.values.subarray(0, k), (l) => Math.sqrt(l));
  if (byRows) {
    const u = new Float32Array(x.rows * k);
    for (let r = 0; r < x.rows; r++) for (let c = 0; c < k; c++) u[r * k + c] = eig.vectors.get(r, c);
    const basis = { data: u, rows: x.rows, cols: k };
    // Xcᵀ·U = Xᵀ·U: U's columns sum to 0 (they lie in the span of the centred columns).
    const xtu = await crossProduct(x, basis, false);
    const v = new Matrix(x.cols, k);
    for (let r = 0; r < x.cols; r++) for (let c = 0; c < k; c++) v.set(r, c, xtu[r * k + c]! / s[c]!);
    return { u: basis, k, s, v, mean };
  }
  const w = new Float32Array(x.cols * k);
  for (let r = 0; r < x.cols; r++) for (let c = 0; c < k; c++) w[r * k + c] = eig.vectors.get(r, c) / s[c]!;
  const u = await project(x, Float32Array.from(mean), { data: w, rows: x.cols, cols: k });
  return { u, k, s, v: eig.vectors.subMatrix(0, x.cols - 1, 0, k - 1), mean };
}
