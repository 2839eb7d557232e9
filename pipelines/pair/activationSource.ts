// Where pairing gets feature activations from: any producer of (token range × feature range)
// blocks. Pairing never asks for all tokens × all features at once, so a source may recompute
// SAE activations block by block from stored residuals instead of holding them.
import type { Mat } from '../kernels/gemm.ts';
import { gatherColumns } from '../kernels/correlationKernels.ts';

export interface ActivationSource {
  readonly numTokens: number;
  readonly numFeatures: number;
  /**
   * Rows tokenStart..tokenEnd-1, columns featStart..featEnd-1, row-major. A source that computes
   * the block may write it into `into` (at least that many floats, reused by the caller across
   * reads); the returned Mat says where the values are.
   */
  read(tokenStart: number, tokenEnd: number, featStart: number, featEnd: number, into?: Float32Array): Promise<Mat>;
  /**
   * Optional, for sources that compute their blocks: acc + aᵀ·(read(…) − shift) written into
   * `out`, in one pass that never materialises the block. Must equal the unfused
   * shiftChunk + accumulateShifted on read(…), which pairing uses where this is absent.
   */
  accumulateShifted?(tokenStart: number, tokenEnd: number, featStart: number, featEnd: number, into: ShiftedAccumulation): Promise<Float32Array>;
  /**
   * Optional, for sources that compute their blocks: the listed features (valid, checked by the
   * caller) as a source of their own that computes only those, where reading the span they cover
   * would compute every feature between them (featureSubsetSource uses it when present).
   */
  subset?(features: readonly number[]): ActivationSource;
}

/** What an accumulation into a correlation block takes: the shift, the other side's shifted chunk, the accumulator and the output (≠ acc). */
export interface ShiftedAccumulation {
  shift: Float32Array;
  a: Mat;
  acc: Float32Array;
  out: Float32Array;
}

/** A source over a matrix already in memory (rows = tokens). Full-width reads share its buffer. */
export function matrixSource(m: Mat): ActivationSource {
  return {
    numTokens: m.rows,
    numFeatures: m.cols,
    async read(t0, t1, f0, f1) {
      checkRange(t0, t1, m.rows, f0, f1, m.cols);
      const w = f1 - f0;
      if (f0 === 0 && f1 === m.cols) return { data: m.data.subarray(t0 * m.cols, t1 * m.cols), rows: t1 - t0, cols: w };
      const out = new Float32Array((t1 - t0) * w);
      for (let t = t0; t < t1; t++) out.set(m.data.subarray(t * m.cols + f0, t * m.cols + f1), (t - t0) * w);
      return { data: out, rows: t1 - t0, cols: w };
    },
  };
}

/** The listed features of `src`, renumbered 0..n-1 (e.g. a pool of the most active features). */
export function featureSubsetSource(src: ActivationSource, features: ArrayLike<number>): ActivationSource {
  const idx = Array.from(features);
  for (const f of idx) if (!Number.isInteger(f) || f < 0 || f >= src.numFeatures) throw new Error(`feature ${f} outside 0..${src.numFeatures - 1}`);
  if (src.subset) return src.subset(idx);
  return {
    numTokens: src.numTokens,
    numFeatures: idx.length,
    async read(t0, t1, f0, f1) {
      checkRange(t0, t1, src.numTokens, f0, f1, idx.length);
      const want = idx.slice(f0, f1);
      if (want.length === 0) return { data: new Float32Array(0), rows: t1 - t0, cols: 0 };
      const lo = Math.min(...want), hi = Math.max(...want) + 1;
      const span = await src.read(t0, t1, lo, hi);
      return gatherColumns(span, want.map((f) => f - lo));
    },
  };
}

/** Rows t0..t1-1 of `src`, renumbered 0..t1-t0-1 (e.g. one half of the corpus). */
export function tokenRangeSource(src: ActivationSource, t0: number, t1: number): ActivationSource {
  checkRange(t0, t1, src.numTokens, 0, 0, src.numFeatures);
  return {
    numTokens: t1 - t0,
    numFeatures: src.numFeatures,
    read(r0, r1, f0, f1) {
      checkRange(r0, r1, t1 - t0, f0, f1, src.numFeatures);
      return src.read(t0 + r0, t0 + r1, f0, f1);
    },
    ...(src.accumulateShifted
      ? {
          accumulateShifted(r0: number, r1: number, f0: number, f1: number, into: ShiftedAccumulation) {
            checkRange(r0, r1, t1 - t0, f0, f1, src.numFeatures);
            return src.accumulateShifted!(t0 + r0, t0 + r1, f0, f1, into);
          },
        }
      : {}),
  };
}

function checkRange(t0: number, t1: number, tn: number, f0: number, f1: number, fn: number): void {
  if (!(0 <= t0 && t0 <= t1 && t1 <= tn && 0 <= f0 && f0 <= f1 && f1 <= fn)) {
    throw new Error(`read(${t0}, ${t1}, ${f0}, ${f1}) outside ${tn} tokens × ${fn} features`);
  }
}
