// PWCCA (Morcos et al. 2018): canonical correlations between the full (numerical-rank) spans of
// the centred sides, averaged with weights = how much of the narrower side's columns each
// canonical variate accounts for: α_i = Σ_j |⟨h_i, x_j⟩|, h_i = Ux·a_i the i-th canonical
// variate. With Xc = Ux·S·Vᵀ, Uxᵀ·Xc = S·Vᵀ, so the weights need only small d×d products.
// Not symmetric (the narrower side, x on ties, supplies the weights). It keeps every direction of
// numerical rank (kA, kB ≤ n − 1), so it is 1 by construction once a side has n − 1 of them.
import { SingularValueDecomposition } from 'ml-matrix';
import { singularBasis } from './basis.ts';
import { crossProduct } from './graphs.ts';
import { componentSaturation } from './saturation.ts';
import { toMatrix } from './spectrum.ts';
import type { Measure } from './types.ts';

export const pwcca: Measure = {
  name: 'pwcca',
  description: 'projection-weighted CCA (weights from the narrower side, x on ties)',
  properties: { symmetric: false, largerIsMoreSimilar: true, invariances: { orthogonal: false, isotropicScaling: true, translation: true, permutationOfColumns: true } },
  minRows: 3,
  async score(x, y) {
    const xSide = x.cols <= y.cols;
    const [a, b] = xSide ? [x, y] : [y, x];
    const ba = await singularBasis(a, 'rank');
    const bb = await singularBasis(b, 'rank');
    const m = toMatrix(await crossProduct(ba.u, bb.u, false), ba.k, bb.k);
    const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: true, computeRightSingularVectors: true, autoTranspose: true });
    const r = Math.min(ba.k, bb.k);
    const rho = svd.diagonal.slice(0, r).map((v) => Math.min(1, v));
    const left = svd.leftSingularVectors; // ka × r: canonical directions in a's basis
    // (leftᵀ · S · Vᵀ)[i, j] = Σ_t left[t, i] · s_t · V[j, t]
    const weights = new Float64Array(r);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < a.cols; j++) {
        let s = 0;
        for (let t = 0; t < ba.k; t++) s += left.get(t, i) * ba.s[t]! * ba.v.get(j, t);
        weights[i]! += Math.abs(s);
      }
    }
    const total = weights.reduce((p, q) => p + q, 0);
    const k = xSide ? { kA: ba.k, kB: bb.k } : { kA: bb.k, kB: ba.k };
    return { score: total > 0 ? rho.reduce((p, v, i) => p + (weights[i]! * v) / total, 0) : 0, extras: k };
  },
  saturation: (n, extras) => componentSaturation(n, extras.kA ?? 0, extras.kB ?? 0),
};
