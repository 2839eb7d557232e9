// Maps from A's decoder space to B's, fitted on training pairs (row i of x ↔ row i of y), each
// split into what the pairing does not change (computed once per side) and what it does (refitted
// for every shuffle of the training pairs in the null):
// - `procrustes`: whiten each side (centre on the training rows, rotate to their principal
//   directions, scale each to unit variance), then the orthogonal Procrustes rotation between the
//   whitened sides, Q = U·Vᵀ of X̃ᵀỸ (its polar factor, by Newton–Schulz on ONNX). Query a ↦ (a − μA)·WA·Q, candidate b ↦ (b − μB)·WB.
//   Directions with less than WHITEN_FLOOR of the largest variance are dropped rather than scaled
//   up: whitened to unit variance, noise directions would weigh as much as the signal.
// - `ridge`: R = (XᵀX + λI)⁻¹XᵀY on the raw rows, λ = ridge · tr(XᵀX)/dA; query a ↦ a·R,
//   candidates are B's rows as they are. (XᵀX + λI)⁻¹ comes from one eigendecomposition of XᵀX.
// The d×d eigendecompositions (once per side) are ml-matrix; every product, and the polar factor
// refitted for every shuffle, is an ONNX graph (graphs.ts, gemm.ts, spectrum.ts).
import type { Matrix } from 'ml-matrix';
import { gemm, type Mat } from '../kernels/gemm.ts';
import { centredGram, crossProduct, project } from '../similarity/graphs.ts';
import { polarFactor, symmetricEigen } from '../similarity/spectrum.ts';

export { MAP_KINDS, type MapKind } from './mapKinds.ts';

/** Whitened directions keep at least this fraction of the largest variance. */
export const WHITEN_FLOOR = 1e-3;

/** How queries (A rows) and candidates (B rows) are put into one space: row ↦ (row − shift)·matrix. */
export interface FittedMap {
  query: { shift: Float32Array; matrix: Mat };
  candidate: { shift: Float32Array; matrix: Mat } | null;
}

function toMat(m: Matrix): Mat {
  return { data: Float32Array.from(m.to1DArray()), rows: m.rows, cols: m.columns };
}

/** d×k whitening of rows: the principal directions of the centred rows scaled by 1/√variance, and the mean. */
export async function whitening(rows: Mat): Promise<{ mean: Float32Array; w: Mat }> {
  const { gram, mean } = await centredGram(rows);
  const d = rows.cols;
  const eig = symmetricEigen(gram, d);
  const top = Math.max(0, eig.values[0]!);
  let k = 0;
  while (k < Math.min(d, rows.rows - 1) && eig.values[k]! > WHITEN_FLOOR * top && top > 0) k++;
  const w = new Float32Array(d * Math.max(1, k));
  for (let c = 0; c < k; c++) {
    const scale = 1 / Math.sqrt(eig.values[c]! / rows.rows);
    for (let r = 0; r < d; r++) w[r * k + c] = eig.vectors.get(r, c) * scale;
  }
  return { mean: Float32Array.from(mean), w: { data: w, rows: d, cols: Math.max(1, k) } };
}

/** A map kind prepared on the training rows of each side; `fit(y)` takes y's rows in their (possibly shuffled) pairing. */
export interface MapFitter {
  fit(y: Mat): Promise<FittedMap>;
}

export async function procrustesFitter(x: Mat, yRows: Mat): Promise<MapFitter> {
  // Whitening depends on each side's row set only, never on which row pairs with which.
  const wa = await whitening(x), wb = await whitening(yRows);
  const xw = await project(x, wa.mean, wa.w);
  return {
    async fit(y) {
      const yw = await project(y, wb.mean, wb.w);
      const m = await crossProduct(xw, yw, false); // kA × kB, f64
      // Q = U·Vᵀ of X̃ᵀỸ (kA × kB, semi-orthogonal), by Newton–Schulz on ONNX.
      const q: Mat = { data: await polarFactor(Float32Array.from(m), xw.cols, yw.cols), rows: xw.cols, cols: yw.cols };
      return { query: { shift: wa.mean, matrix: await gemm(wa.w, q) }, candidate: { shift: wb.mean, matrix: wb.w } };
    },
  };
}

export async function ridgeFitter(x: Mat, ridge: number): Promise<MapFitter> {
  const d = x.cols;
  const eig = symmetricEigen(await crossProduct(x, x, false), d);
  let trace = 0;
  for (const v of eig.values) trace += Math.max(0, v);
  const lambda = (ridge * trace) / d;
  // G = V·(Λ + λ)⁻¹·Vᵀ, so R = G·XᵀY for any pairing of the rows.
  const scaled = eig.vectors.clone();
  for (let c = 0; c < d; c++) {
    const inv = 1 / (Math.max(0, eig.values[c]!) + lambda);
    for (let r = 0; r < d; r++) scaled.set(r, c, scaled.get(r, c) * inv);
  }
  const g = await gemm(toMat(scaled), toMat(eig.vectors), { transB: true });
  const zero = new Float32Array(d);
  return {
    async fit(y) {
      const xty = await crossProduct(x, y, false);
      const r = await gemm(g, { data: Float32Array.from(xty), rows: d, cols: y.cols });
      return { query: { shift: zero, matrix: r }, candidate: null };
    },
  };
}

/** Rows through a map side: (rows − shift)·matrix, or the rows themselves. */
export function applySide(rows: Mat, side: { shift: Float32Array; matrix: Mat } | null): Promise<Mat> {
  return side ? project(rows, side.shift, side.matrix) : Promise.resolve(rows);
}
