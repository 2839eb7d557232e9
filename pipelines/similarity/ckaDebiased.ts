// Debiased linear CKA: CKA_u = HSIC_u(K, L) / √(HSIC_u(K, K)·HSIC_u(L, L)) with linear kernels
// K = XXᵀ, L = YYᵀ and the unbiased HSIC estimator of Song et al. (2012), as in Kornblith et
// al.'s and Nguyen et al.'s debiased CKA. With K̃, L̃ the kernels with zeroed diagonals,
//   HSIC_u(K, L) = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − (2/(n−2))·1ᵀK̃L̃1] / (n(n−3)).
// Its expectation for independent rows is 0 at every n, where biased CKA is inflated towards 1
// when rows are few. HSIC_u is the inner product of the U-centred kernels (Székely & Rizzo), so
// HSIC_u(K, K) ≥ 0 and, by Cauchy–Schwarz, −1 ≤ CKA_u ≤ 1; it is negative when the sides are
// less alike than unrelated rows (and, at small n, often by chance).
//
// Computed in feature space, never with n×n matrices: with d_i = ‖x_i‖² (diag K), s = Xᵀ1,
//   tr(K̃L̃) = ‖XᵀY‖²_F − Σ_i d_i·e_i,   1ᵀK̃1 = ‖s‖² − Σ_i d_i,   K̃1 = X·s − d.
// The unbiased HSIC does not change when a vector is added to every row (adding a_i + b_j to a
// kernel's off-diagonal entries leaves its U-centred form unchanged), so both sides are
// column-centred first, which keeps ‖XᵀY‖²_F from cancelling against large terms in f32.
//
// Null: permuting y's rows by π permutes e and L̃1 and leaves 1ᵀL̃1 unchanged, so a permuted
// score needs ‖XᵀPY‖²_F (the batched ONNX graph of the `cka` null) plus two O(n) gathers; the
// null's observed score is the identity permutation's, by the same route (f32 products).
import type { Mat } from '../kernels/gemm.ts';
import { crossProduct, permutedCrossSumOfSquares } from './graphs.ts';
import { centred, sumOfSquares } from './cka.ts';
import { transpose } from './matrix.ts';
import { batchFor } from './svcca.ts';
import type { Measure } from './types.ts';

/** The O(n) and O(d²) pieces of one side that the unbiased HSIC needs. */
export interface HsicSide {
  n: number;
  /** d_i = ‖x_i‖² (the kernel's diagonal). */
  diag: Float64Array;
  /** (K̃1)_i = x_i·s − d_i. */
  rowSums: Float64Array;
  /** 1ᵀK̃1. */
  total: number;
  /** HSIC_u(K, K). */
  self: number;
}

/** HSIC_u from tr(K̃L̃), 1ᵀK̃1, 1ᵀL̃1 and 1ᵀK̃L̃1. */
export function unbiasedHsic(n: number, trace: number, totalK: number, totalL: number, rowDot: number): number {
  return (trace + (totalK * totalL) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * rowDot) / (n * (n - 3));
}

function dot(a: Float64Array, b: Float64Array, perm?: Int32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[perm ? perm[i]! : i]!;
  return s;
}

/** The pieces of one (already centred) side; ‖XᵀX‖²_F from the f64 Gram. */
export async function hsicSide(x: Mat): Promise<HsicSide> {
  const n = x.rows, d = x.cols;
  const s = new Float64Array(d);
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      const v = x.data[i * d + c]!;
      s[c]! += v;
      diag[i]! += v * v;
    }
  }
  const rowSums = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ks = 0;
    for (let c = 0; c < d; c++) ks += x.data[i * d + c]! * s[c]!;
    rowSums[i] = ks - diag[i]!;
  }
  let sumDiag = 0;
  for (const v of diag) sumDiag += v;
  const total = sumOfSquares(s) - sumDiag;
  const trace = sumOfSquares(await crossProduct(x, x, false)) - dot(diag, diag);
  return { n, diag, rowSums, total, self: unbiasedHsic(n, trace, total, total, dot(rowSums, rowSums)) };
}

/** CKA_u of x against y with its rows permuted by `perm` (identity when omitted), given ‖XᵀPY‖²_F. */
export function debiasedCka(a: HsicSide, b: HsicSide, crossSumOfSquares: number, perm?: Int32Array): number {
  const denom = Math.sqrt(Math.max(0, a.self) * Math.max(0, b.self));
  if (!(denom > 0)) return 0;
  const cross = unbiasedHsic(a.n, crossSumOfSquares - dot(a.diag, b.diag, perm), a.total, b.total, dot(a.rowSums, b.rowSums, perm));
  return cross / denom;
}

export const ckaDebiased: Measure = {
  name: 'cka-debiased',
  description: 'debiased linear CKA (unbiased HSIC, Song et al. 2012): 0 in expectation for unrelated rows at any n; can be negative',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: true, permutationOfColumns: true } },
  minRows: 4,
  async score(x, y) {
    const xc = centred(x), yc = centred(y);
    const a = await hsicSide(xc), b = await hsicSide(yc);
    return { score: debiasedCka(a, b, sumOfSquares(await crossProduct(xc, yc, false))) };
  },
  async prepareNull(x, y) {
    const xc = centred(x), yc = centred(y);
    const a = await hsicSide(xc), b = await hsicSide(yc);
    const xcT = transpose(xc);
    return {
      batchSize: batchFor(4 * (x.rows * y.cols + 2 * x.cols * y.cols)),
      async scorePermuted(perms) {
        const ss = await permutedCrossSumOfSquares(xcT, yc, perms);
        return Float64Array.from(perms, (p, i) => debiasedCka(a, b, ss[i]!, p));
      },
    };
  },
};
