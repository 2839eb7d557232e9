// SAE activations as a pairing ActivationSource: every read(tokens, features) recomputes the block
// from residuals (T × d, small) on ONNX Runtime, so nothing tokens × features is ever held.
import type { Mat } from '../kernels/gemm.ts';
import type { ActivationSource } from '../pair/activationSource.ts';
import { accumulateFeatureBlock, encodeFeatureBlock, topkThresholds } from './encode.ts';
import type { EncodeMode, Sae } from './types.ts';

/** Residual rows on demand: a matrix in memory, or a reader over stored chunks. */
export interface ResidualSource {
  readonly numTokens: number;
  readonly width: number;
  read(tokenStart: number, tokenEnd: number): Promise<Mat>;
}

export function residualMatrix(m: Mat): ResidualSource {
  return {
    numTokens: m.rows,
    width: m.cols,
    read: async (t0, t1) => ({ data: m.data.subarray(t0 * m.cols, t1 * m.cols), rows: t1 - t0, cols: m.cols }),
  };
}

/**
 * Block-wise SAE activations. For `post` mode of a TopK SAE the per-token thresholds (k-th largest
 * pre-activation over all features) are computed once per token and remembered (4 bytes/token),
 * so later feature blocks of the same tokens reuse them.
 */
export function saeActivationSource(sae: Sae, residuals: ResidualSource, mode: EncodeMode): ActivationSource {
  if (residuals.width !== sae.dIn) throw new Error(`SAE d_in ${sae.dIn} ≠ residual width ${residuals.width}`);
  const needsThresholds = mode === 'post' && sae.activation.kind === 'topk';
  const thresholds = needsThresholds ? new Float32Array(residuals.numTokens).fill(NaN) : undefined;
  const check = (t0: number, t1: number, f0: number, f1: number): void => {
    if (!(0 <= t0 && t0 <= t1 && t1 <= residuals.numTokens && 0 <= f0 && f0 <= f1 && f1 <= sae.numFeatures)) {
      throw new Error(`read(${t0}, ${t1}, ${f0}, ${f1}) outside ${residuals.numTokens} tokens × ${sae.numFeatures} features`);
    }
  };
  const thresholdsFor = async (t0: number, t1: number, x: Mat): Promise<Float32Array | undefined> => {
    if (!thresholds) return undefined;
    const thr = thresholds.subarray(t0, t1);
    if (thr.some(Number.isNaN)) thr.set(await topkThresholds(sae, x));
    return thr;
  };
  return {
    numTokens: residuals.numTokens,
    numFeatures: sae.numFeatures,
    async read(t0, t1, f0, f1, into) {
      check(t0, t1, f0, f1);
      if (t0 === t1 || f0 === f1) return { data: new Float32Array(0), rows: t1 - t0, cols: f1 - f0 };
      const x = await residuals.read(t0, t1);
      return encodeFeatureBlock(sae, x, f0, f1, mode, await thresholdsFor(t0, t1, x), into);
    },
    async accumulateShifted(t0, t1, f0, f1, into) {
      check(t0, t1, f0, f1);
      if (t0 === t1 || f0 === f1) {
        into.out.set(into.acc);
        return into.out;
      }
      const x = await residuals.read(t0, t1);
      return accumulateFeatureBlock(sae, x, f0, f1, mode, await thresholdsFor(t0, t1, x), into);
    },
  };
}
