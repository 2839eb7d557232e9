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
 * so later feature blocks of the same tokens reuse them. A feature subset (`subset`) encodes only
 * its features, from a copy of their encoder rows, and shares those thresholds: the subsets a
 * semantic category pairs are spread over the whole dictionary, and reading the span they cover
 * would encode nearly all of it once per category.
 */
export function saeActivationSource(sae: Sae, residuals: ResidualSource, mode: EncodeMode): ActivationSource {
  if (residuals.width !== sae.dIn) throw new Error(`SAE d_in ${sae.dIn} ≠ residual width ${residuals.width}`);
  const needsThresholds = mode === 'post' && sae.activation.kind === 'topk';
  const thresholds = needsThresholds ? new Float32Array(residuals.numTokens).fill(NaN) : undefined;
  const thresholdsFor = async (t0: number, t1: number, x: Mat): Promise<Float32Array | undefined> => {
    if (!thresholds) return undefined;
    const thr = thresholds.subarray(t0, t1);
    if (thr.some(Number.isNaN)) thr.set(await topkThresholds(sae, x));
    return thr;
  };
  const over = (enc: Sae): ActivationSource => {
    const check = (t0: number, t1: number, f0: number, f1: number): void => {
      if (!(0 <= t0 && t0 <= t1 && t1 <= residuals.numTokens && 0 <= f0 && f0 <= f1 && f1 <= enc.numFeatures)) {
        throw new Error(`read(${t0}, ${t1}, ${f0}, ${f1}) outside ${residuals.numTokens} tokens × ${enc.numFeatures} features`);
      }
    };
    return {
      numTokens: residuals.numTokens,
      numFeatures: enc.numFeatures,
      async read(t0, t1, f0, f1, into) {
        check(t0, t1, f0, f1);
        if (t0 === t1 || f0 === f1) return { data: new Float32Array(0), rows: t1 - t0, cols: f1 - f0 };
        const x = await residuals.read(t0, t1);
        return encodeFeatureBlock(enc, x, f0, f1, mode, await thresholdsFor(t0, t1, x), into);
      },
      async accumulateShifted(t0, t1, f0, f1, into) {
        check(t0, t1, f0, f1);
        if (t0 === t1 || f0 === f1) {
          into.out.set(into.acc);
          return into.out;
        }
        const x = await residuals.read(t0, t1);
        return accumulateFeatureBlock(enc, x, f0, f1, mode, await thresholdsFor(t0, t1, x), into);
      },
      subset: (features) => over(saeFeatures(enc, features)),
    };
  };
  return over(sae);
}

/** The SAE restricted to `features` (renumbered 0..n-1): their encoder and decoder rows, biases and thresholds. */
function saeFeatures(sae: Sae, features: readonly number[]): Sae {
  const d = sae.dIn;
  const rows = (m: Float32Array, width: number): Float32Array => {
    const out = new Float32Array(features.length * width);
    features.forEach((f, i) => out.set(m.subarray(f * width, (f + 1) * width), i * width));
    return out;
  };
  const activation = sae.activation.kind === 'jumprelu' ? { kind: 'jumprelu' as const, threshold: rows(sae.activation.threshold, 1) } : sae.activation;
  return { ...sae, numFeatures: features.length, wEnc: rows(sae.wEnc, d), bEnc: rows(sae.bEnc, 1), wDec: rows(sae.wDec, d), activation };
}
