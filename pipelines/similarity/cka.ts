// Linear CKA: ‖XcᵀYc‖²_F / (‖XcᵀXc‖_F · ‖YcᵀYc‖_F) on column-centred data (Kornblith et al.
// 2019). Null: centring commutes with permuting rows, so the Grams are computed once and a
// permuted score needs only ‖Xcᵀ·P·Yc‖²_F, batched on ONNX.
import type { Mat } from '../kernels/gemm.ts';
import { centredGram, crossProduct, permutedCrossSumOfSquares } from './graphs.ts';
import { columnMeans, transpose } from './matrix.ts';
import { batchFor } from './svcca.ts';
import type { Measure } from './types.ts';

function sumOfSquares(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}

function centred(m: Mat): Mat {
  const mu = columnMeans(m);
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) for (let c = 0; c < m.cols; c++) out[i * m.cols + c] = m.data[i * m.cols + c]! - mu[c]!;
  return { data: out, rows: m.rows, cols: m.cols };
}

async function selfNorms(x: Mat, y: Mat): Promise<number> {
  const gx = Math.sqrt(sumOfSquares((await centredGram(x)).gram));
  const gy = Math.sqrt(sumOfSquares((await centredGram(y)).gram));
  return gx * gy;
}

export const cka: Measure = {
  name: 'cka',
  description: 'linear CKA of the column-centred rows',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: true, permutationOfColumns: true } },
  minRows: 3,
  async score(x, y) {
    const denom = await selfNorms(x, y);
    return { score: denom > 0 ? sumOfSquares(await crossProduct(x, y, true)) / denom : 0 };
  },
  async prepareNull(x, y) {
    const denom = await selfNorms(x, y);
    const observed = { score: denom > 0 ? sumOfSquares(await crossProduct(x, y, true)) / denom : 0 };
    const xcT = transpose(centred(x));
    const yc = centred(y);
    return {
      observed,
      batchSize: batchFor(4 * (x.rows * y.cols + 2 * x.cols * y.cols)),
      async scorePermuted(perms) {
        const ss = await permutedCrossSumOfSquares(xcT, yc, perms);
        return Float64Array.from(ss, (v) => (denom > 0 ? v / denom : 0));
      },
    };
  },
};
