// Linear CKA: ‖XcᵀYc‖²_F / (‖XcᵀXc‖_F · ‖YcᵀYc‖_F) on column-centred data (Kornblith et al.
// 2019), the biased HSIC estimator. Null: centring commutes with permuting rows, so the Grams are
// computed once and a permuted score needs only ‖Xcᵀ·P·Yc‖²_F, batched on ONNX (f32); the null's
// observed score is the identity permutation's, by the same route.
//
// Saturation: the biased estimator of rows that are few for their spread is inflated towards 1
// (independent Gaussian rows: 0.97 at n = 20, d = 512); its permutation-null mean is about
// √(rA·rB)/(n − 1) with r the effective ranks of the centred Grams. `cka-debiased` has no such bias.
import type { Mat } from '../kernels/gemm.ts';
import { centredGram, crossProduct, permutedCrossSumOfSquares } from './graphs.ts';
import { columnMeans, transpose } from './matrix.ts';
import { describeSpread, effectiveRank, SATURATION_BASELINE, spreadRatio } from './saturation.ts';
import { batchFor } from './svcca.ts';
import type { Measure } from './types.ts';

export function sumOfSquares(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}

/** The rows minus their column means (f64 means, f32 result). */
export function centred(m: Mat): Mat {
  const mu = columnMeans(m);
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) for (let c = 0; c < m.cols; c++) out[i * m.cols + c] = m.data[i * m.cols + c]! - mu[c]!;
  return { data: out, rows: m.rows, cols: m.cols };
}

/** ‖XcᵀXc‖_F and the effective rank of XcᵀXc. */
async function selfGram(x: Mat): Promise<{ norm: number; rank: number }> {
  const { gram } = await centredGram(x);
  let trace = 0;
  for (let i = 0; i < x.cols; i++) trace += gram[i * x.cols + i]!;
  const ss = sumOfSquares(gram);
  return { norm: Math.sqrt(ss), rank: effectiveRank(trace, ss) };
}

async function sides(x: Mat, y: Mat): Promise<{ denom: number; extras: Record<string, number> }> {
  const gx = await selfGram(x), gy = await selfGram(y);
  return { denom: gx.norm * gy.norm, extras: { effRankA: gx.rank, effRankB: gy.rank } };
}

export const cka: Measure = {
  name: 'cka',
  description: 'linear CKA of the column-centred rows (biased HSIC estimator; inflated when rows are few, see cka-debiased)',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: true, permutationOfColumns: true } },
  minRows: 3,
  async score(x, y) {
    const { denom, extras } = await sides(x, y);
    return { score: denom > 0 ? sumOfSquares(await crossProduct(x, y, true)) / denom : 0, extras };
  },
  async prepareNull(x, y) {
    const { denom, extras } = await sides(x, y);
    const xcT = transpose(centred(x));
    const yc = centred(y);
    return {
      extras,
      batchSize: batchFor(4 * (x.rows * y.cols + 2 * x.cols * y.cols)),
      async scorePermuted(perms) {
        const ss = await permutedCrossSumOfSquares(xcT, yc, perms);
        return Float64Array.from(ss, (v) => (denom > 0 ? v / denom : 0));
      },
    };
  },
  saturation(n, extras) {
    const ratio = spreadRatio(n - 1, extras.effRankA ?? 0, extras.effRankB ?? 0);
    if (ratio < SATURATION_BASELINE) return undefined;
    return `${describeSpread(n, extras.effRankA!, extras.effRankB!, ratio)}: biased CKA of unrelated rows is already about ${ratio.toFixed(2)} (use cka-debiased)`;
  },
};
