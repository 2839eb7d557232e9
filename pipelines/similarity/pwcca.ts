// PWCCA (Morcos et al. 2018): canonical correlations between the full (numerical-rank) spans of
// the centred sides, averaged with weights = how much of the narrower side's columns each
// canonical variate accounts for: α_i = Σ_j |⟨h_i, x_j⟩|, h_i = Ux·a_i the i-th canonical
// variate. With Xc = Ux·S·Vᵀ, Uxᵀ·Xc = S·Vᵀ, so the weights need only small d×d products.
// Not symmetric (the narrower side, x on ties, supplies the weights). It keeps every direction of
// numerical rank (kA, kB ≤ n − 1), so it is 1 by construction once a side has n − 1 of them.
//
// Null: permuting the rows of y permutes the rows of its basis and leaves its S and V alone, so
// each side's basis is computed once; a permuted score is one k×k cross product and its SVD.
import { SingularValueDecomposition } from 'ml-matrix';
import type { Mat } from '../kernels/gemm.ts';
import { singularBasis, type SingularBasis } from './basis.ts';
import { crossProduct } from './graphs.ts';
import { gatherRows } from './matrix.ts';
import { componentSaturation } from './saturation.ts';
import { toMatrix } from './spectrum.ts';
import type { Measure, MeasureResult, PreparedNull } from './types.ts';

interface Sides {
  /** The narrower side (x on ties), which supplies the weights, and the other. */
  a: SingularBasis;
  b: SingularBasis;
  /** Whether y is `b` (its rows are what a permutation moves). */
  yIsB: boolean;
  extras: { kA: number; kB: number };
}

async function sides(x: Mat, y: Mat): Promise<Sides> {
  const xSide = x.cols <= y.cols;
  const a = await singularBasis(xSide ? x : y, 'rank');
  const b = await singularBasis(xSide ? y : x, 'rank');
  return { a, b, yIsB: xSide, extras: xSide ? { kA: a.k, kB: b.k } : { kA: b.k, kB: a.k } };
}

/** PWCCA of the bases ua (of side a, rows possibly permuted) and ub; a's S and V give the weights. */
async function pwccaOf(s: Sides, ua: Mat, ub: Mat): Promise<MeasureResult> {
  const { a, b } = s;
  const m = toMatrix(await crossProduct(ua, ub, false), a.k, b.k);
  const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: true, computeRightSingularVectors: true, autoTranspose: true });
  const r = Math.min(a.k, b.k);
  const rho = svd.diagonal.slice(0, r).map((v) => Math.min(1, v));
  const left = svd.leftSingularVectors; // ka × r: canonical directions in a's basis
  // (leftᵀ · S · Vᵀ)[i, j] = Σ_t left[t, i] · s_t · V[j, t]
  const weights = new Float64Array(r);
  const cols = a.v.rows;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let t = 0; t < a.k; t++) sum += left.get(t, i) * a.s[t]! * a.v.get(j, t);
      weights[i]! += Math.abs(sum);
    }
  }
  const total = weights.reduce((p, q) => p + q, 0);
  return { score: total > 0 ? rho.reduce((p, v, i) => p + (weights[i]! * v) / total, 0) : 0, extras: s.extras };
}

async function preparePwccaNull(x: Mat, y: Mat): Promise<PreparedNull> {
  const s = await sides(x, y);
  return {
    extras: s.extras,
    batchSize: 16,
    async scorePermuted(perms) {
      const out = new Float64Array(perms.length);
      for (let p = 0; p < perms.length; p++) {
        const perm = perms[p]!;
        const ua = s.yIsB ? s.a.u : gatherRows(s.a.u, perm);
        const ub = s.yIsB ? gatherRows(s.b.u, perm) : s.b.u;
        out[p] = (await pwccaOf(s, ua, ub)).score;
      }
      return out;
    },
  };
}

export const pwcca: Measure = {
  name: 'pwcca',
  description: 'projection-weighted CCA (weights from the narrower side, x on ties)',
  properties: { symmetric: false, largerIsMoreSimilar: true, invariances: { orthogonal: false, isotropicScaling: true, translation: true, permutationOfColumns: true } },
  minRows: 3,
  async score(x, y) {
    const s = await sides(x, y);
    return pwccaOf(s, s.a.u, s.b.u);
  },
  prepareNull: (x, y) => preparePwccaNull(x, y),
  saturation: (n, extras) => componentSaturation(n, extras.kA ?? 0, extras.kB ?? 0),
};
