// Small O(n·d) helpers on row-major matrices: gathering rows, column means, row normalisation.
// Anything with an n·d·d or n·n·d cost goes through the ONNX graphs in graphs.ts instead.
import type { Mat } from '../kernels/gemm.ts';

/** Rows of m in the given order: out row i = m row order[i]. */
export function gatherRows(m: Mat, order: ArrayLike<number>): Mat {
  const out = new Float32Array(order.length * m.cols);
  for (let i = 0; i < order.length; i++) {
    const r = order[i]!;
    out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return { data: out, rows: order.length, cols: m.cols };
}

export function columnMeans(m: Mat): Float64Array {
  const mu = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    const off = i * m.cols;
    for (let c = 0; c < m.cols; c++) mu[c]! += m.data[off + c]!;
  }
  for (let c = 0; c < m.cols; c++) mu[c]! /= m.rows;
  return mu;
}

/**
 * Each row centred over its own entries and scaled to unit length, so that the inner product
 * of two rows is their Pearson correlation. A constant row becomes all zeros (it correlates 0
 * with everything rather than NaN).
 */
export function rowCorrelationFactors(m: Mat): Mat {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    const off = i * m.cols;
    let mean = 0;
    for (let c = 0; c < m.cols; c++) mean += m.data[off + c]!;
    mean /= m.cols;
    let ss = 0;
    for (let c = 0; c < m.cols; c++) ss += (m.data[off + c]! - mean) ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let c = 0; c < m.cols; c++) out[off + c] = (m.data[off + c]! - mean) * inv;
  }
  return { data: out, rows: m.rows, cols: m.cols };
}

/** Each row scaled to unit length (cosine similarity = inner product); zero rows stay zero. */
export function unitRows(m: Mat): Mat {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) {
    const off = i * m.cols;
    let ss = 0;
    for (let c = 0; c < m.cols; c++) ss += m.data[off + c]! ** 2;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let c = 0; c < m.cols; c++) out[off + c] = m.data[off + c]! * inv;
  }
  return { data: out, rows: m.rows, cols: m.cols };
}

export function squaredRowNorms(m: Mat): Float32Array {
  const out = new Float32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let ss = 0;
    for (let c = 0; c < m.cols; c++) ss += m.data[i * m.cols + c]! ** 2;
    out[i] = ss;
  }
  return out;
}

export function transpose(m: Mat): Mat {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) for (let c = 0; c < m.cols; c++) out[c * m.rows + i] = m.data[i * m.cols + c]!;
  return { data: out, rows: m.cols, cols: m.rows };
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}
