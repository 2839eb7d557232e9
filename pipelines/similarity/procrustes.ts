// Orthogonal Procrustes relative error: each side scaled to unit Frobenius norm (no centring),
// the narrower side zero-padded to the wider width (as the original's adjust_dimensionality), then
//   min_R ‖X̂R − Ŷ‖_F / ‖Ŷ‖_F = sqrt(2 − 2·‖X̂ᵀŶ‖_*)
// (RMSE of the best rotation's fit relative to the RMS of the target). Zero padding does not
// change the nuclear norm of X̂ᵀŶ, so no padded matrix is built. This reproduces the reference's
// procrustes_rel_rmse, whose rows have unit norm so that ‖X‖ = ‖Y‖ there; the scaling makes the
// score symmetric and scale-free in general. A distance: 0 = identical up to rotation.
import type { Mat } from '../kernels/gemm.ts';
import { crossProduct } from './graphs.ts';
import { singularValues } from './spectrum.ts';
import type { Measure } from './types.ts';

function frobenius(m: Mat): number {
  let s = 0;
  for (let i = 0; i < m.data.length; i++) s += m.data[i]! * m.data[i]!;
  return Math.sqrt(s);
}

export const procrustes: Measure = {
  name: 'procrustes',
  description: 'orthogonal Procrustes relative error of the unit-norm sides (0 = equal up to rotation; a distance)',
  properties: { symmetric: true, largerIsMoreSimilar: false, invariances: { orthogonal: true, isotropicScaling: true, translation: false, permutationOfColumns: true } },
  minRows: 2,
  async score(x, y) {
    const nx = frobenius(x), ny = frobenius(y);
    if (nx === 0 || ny === 0) return { score: nx === ny ? 0 : Math.SQRT2 };
    const nuclear = singularValues(await crossProduct(x, y, false), x.cols, y.cols).reduce((a, b) => a + b, 0) / (nx * ny);
    return { score: Math.sqrt(Math.max(0, 2 - 2 * nuclear)) };
  },
};
