// How well an SAE fits the activations it is given (the user's corpus at the layer it is applied
// to): fraction of variance unexplained FVU = Σ‖x − x̂‖² / Σ‖x − x̄‖², mean L0 (features firing
// per token) and the fraction of dead features (never firing on the corpus), all with the SAE's
// own activation (`post`: TopK / ReLU / JumpReLU) and decoder x̂ = codes · W_dec + b_dec. An SAE
// applied to another tensor than the one it was trained on gives plausible-looking codes but a
// high FVU, so this is the check that catches a wrong layer ↔ SAE mapping on real data.
// Streamed over token chunks × feature blocks in ONNX Runtime; memory O(T_chunk × d + F).
import type { Mat } from '../kernels/gemm.ts';
import { cachedSession, ort, WITH_ARENA } from '../kernels/session.ts';
import { blockFeeds, blockKindFor, defaultBlockFeatures, sparsityFeeds, topkThresholds } from './encode.ts';
import { blockReconstructGraph, reconstructionErrorGraph } from './encodeGraphs.ts';
import type { Sae } from './types.ts';

/** Above this FVU the SAE most likely reads another tensor than the one it was trained on. */
export const FVU_WARNING = 0.5;

export interface SaeFit {
  numTokens: number;
  /** Fraction of variance unexplained (0 = perfect; ≥ 1 = no better than the mean). */
  fvu: number;
  /** Mean number of features firing per token. */
  l0: number;
  /** Fraction of features that never fire on these tokens. */
  deadFraction: number;
}

/** Running sums, small enough to persist after every chunk. */
export interface SaeFitState {
  numTokens: number;
  sse: number;
  /** Centred sum of squares of x and its running column means (Chan's merge). */
  ss: number;
  mean: Float64Array;
  /** Per feature, tokens it fired on. */
  fires: Float64Array;
}

export class SaeFitAccumulator {
  private state: SaeFitState;

  constructor(
    private readonly sae: Sae,
    private readonly opts: { blockFeatures?: number } = {},
    state?: SaeFitState,
  ) {
    this.state = state ?? { numTokens: 0, sse: 0, ss: 0, mean: new Float64Array(sae.dIn), fires: new Float64Array(sae.numFeatures) };
  }

  /** Adds a chunk; a TopK SAE's per-token `thresholds` for it (topkThresholds) are computed when not given. */
  async add(chunk: Mat, thresholds?: Float32Array): Promise<void> {
    const sae = this.sae;
    if (chunk.cols !== sae.dIn) throw new Error(`SAE fit: chunk has ${chunk.cols} columns, SAE d_in is ${sae.dIn}`);
    const T = chunk.rows;
    if (T === 0) return;
    const kind = blockKindFor(sae, 'post');
    const block = await cachedSession(`sae-block-reconstruct:${kind}:${sae.subtractDecoderBias}`, () => blockReconstructGraph(kind, sae.subtractDecoderBias), WITH_ARENA);
    const thr = kind === 'threshold' ? (thresholds ?? (await topkThresholds(sae, chunk, this.opts.blockFeatures))) : undefined;
    const step = this.opts.blockFeatures ?? defaultBlockFeatures(sae, T);
    const d = sae.dIn;
    let recon: Float32Array = new Float32Array(T * d);
    for (let fs = 0; fs < sae.numFeatures; fs += step) {
      const fe = Math.min(sae.numFeatures, fs + step);
      const r = await block.run({
        ...blockFeeds(sae, chunk, fs, fe),
        ...sparsityFeeds(sae, kind, fs, fe, T, thr),
        Wd: new ort.Tensor('float32', sae.wDec.subarray(fs * d, fe * d), [fe - fs, d]),
        R: new ort.Tensor('float32', recon, [T, d]),
      });
      recon = r.R_out!.data as Float32Array;
      const nnz = r.nnz!.data as Float32Array;
      for (let j = 0; j < nnz.length; j++) this.state.fires[fs + j]! += nnz[j]!;
    }
    const errors = await cachedSession('sae-reconstruction-error', reconstructionErrorGraph, WITH_ARENA);
    const e = await errors.run({
      X: new ort.Tensor('float32', chunk.data, [T, d]),
      R: new ort.Tensor('float32', recon, [T, d]),
      b_dec: new ort.Tensor('float32', sae.bDec, [d]),
    });
    const s = this.state;
    const mean = e.mean!.data as Float64Array;
    const nA = s.numTokens, nAll = nA + T;
    let shift = 0;
    for (let c = 0; c < d; c++) {
      const delta = mean[c]! - s.mean[c]!;
      shift += delta * delta;
      s.mean[c] = s.mean[c]! + (delta * T) / nAll;
    }
    s.ss += Number((e.ss!.data as Float64Array)[0]) + (shift * nA * T) / nAll;
    s.sse += Number((e.sse!.data as Float64Array)[0]);
    s.numTokens = nAll;
  }

  /** Copies of the running sums (persist them to resume after a crash). */
  snapshot(): SaeFitState {
    const s = this.state;
    return { numTokens: s.numTokens, sse: s.sse, ss: s.ss, mean: s.mean.slice(), fires: s.fires.slice() };
  }

  finish(): SaeFit {
    const s = this.state;
    let fired = 0, dead = 0;
    for (const n of s.fires) {
      fired += n;
      if (n === 0) dead++;
    }
    return {
      numTokens: s.numTokens,
      fvu: s.ss > 0 ? s.sse / s.ss : Number.NaN,
      l0: s.numTokens > 0 ? fired / s.numTokens : Number.NaN,
      deadFraction: this.sae.numFeatures > 0 ? dead / this.sae.numFeatures : Number.NaN,
    };
  }
}

/** One pass over `chunks` (consecutive token ranges). */
export async function computeSaeFit(sae: Sae, chunks: Iterable<Mat> | AsyncIterable<Mat>, opts: { blockFeatures?: number } = {}): Promise<SaeFit> {
  const acc = new SaeFitAccumulator(sae, opts);
  for await (const chunk of chunks) await acc.add(chunk);
  return acc.finish();
}

/** The warning line for a poor fit, or undefined. */
export function fitWarning(fit: SaeFit, what: string): string | undefined {
  if (!(fit.fvu > FVU_WARNING)) return undefined;
  return `${what}: FVU ${fit.fvu.toFixed(3)} > ${FVU_WARNING} on the corpus (L0 ${fit.l0.toFixed(1)}, ${(100 * fit.deadFraction).toFixed(1)}% dead): the SAE was probably trained on another tensor`;
}
