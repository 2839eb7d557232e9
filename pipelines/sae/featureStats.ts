// Per-feature statistics in one streaming pass over residual chunks: mean, std (population),
// activation frequency (fraction of tokens > 0), max, and the top-k activating token positions.
// Activations are computed per (chunk × feature block) inside ONNX Runtime and only per-feature
// reductions come back, so memory is O(F·k + chunk × block), never tokens × features.
import type { Mat } from '../kernels/gemm.ts';
import { cachedSession, ort, WITH_ARENA } from '../kernels/session.ts';
import { blockFeeds, blockKindFor, defaultBlockFeatures, kthOfRunningTopk, sparsityFeeds, topkThresholds } from './encode.ts';
import { blockStatsGraph } from './encodeGraphs.ts';
import type { EncodeMode, Sae } from './types.ts';

export interface FeatureStats {
  numFeatures: number;
  numTokens: number;
  topK: number;
  mean: Float64Array;
  std: Float64Array;
  frequency: Float64Array;
  max: Float64Array;
  /**
   * F × topK global token indices of each feature's largest activations, highest first, ties by
   * lower position; −1 where fewer than topK tokens were seen. Zero activations count (a feature
   * that never fires still has "top" positions), matching the reference's top-token rule.
   */
  topPositions: Int32Array;
  /** F × topK activation values matching topPositions (−Infinity where the position is −1). */
  topValues: Float32Array;
}

export interface FeatureStatsOptions {
  mode: EncodeMode;
  /** Top activating positions kept per feature (default 5). */
  topK?: number;
  /** Features per ONNX Runtime call (default: ~16M floats per transient buffer). */
  blockFeatures?: number;
}

/** Running state of a FeatureStatsAccumulator (population mean, centred sum of squares, …). */
export interface FeatureStatsState {
  numTokens: number;
  topK: number;
  mean: Float64Array;
  m2: Float64Array;
  nnz: Float64Array;
  max: Float64Array;
  topPositions: Int32Array;
  topValues: Float32Array;
}

/** Streaming accumulator; feed chunks in token order with add(), then finish(). */
export class FeatureStatsAccumulator {
  private readonly F: number;
  private readonly k: number;
  private tokens = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly nnz: Float64Array;
  private readonly max: Float64Array;
  private readonly topPos: Int32Array;
  private readonly topVal: Float32Array;

  constructor(
    private readonly sae: Sae,
    private readonly opts: FeatureStatsOptions,
  ) {
    this.F = sae.numFeatures;
    this.k = opts.topK ?? 5;
    if (!(Number.isInteger(this.k) && this.k >= 1)) throw new Error(`feature stats: topK must be a positive integer, got ${this.k}`);
    this.mean = new Float64Array(this.F);
    this.m2 = new Float64Array(this.F);
    this.nnz = new Float64Array(this.F);
    this.max = new Float64Array(this.F).fill(-Infinity);
    this.topPos = new Int32Array(this.F * this.k).fill(-1);
    this.topVal = new Float32Array(this.F * this.k).fill(-Infinity);
  }

  /**
   * Adds a chunk. For a TopK SAE, returns the chunk's per-token thresholds (topkThresholds):
   * computed first for `post` statistics, merged inside the statistics pass for `pre` — either
   * way at no extra encoding, for the fit's pass over the same chunk (SaeFitAccumulator.add).
   */
  async add(chunk: Mat): Promise<Float32Array | undefined> {
    const sae = this.sae;
    if (chunk.cols !== sae.dIn) throw new Error(`feature stats: chunk has ${chunk.cols} columns, SAE d_in is ${sae.dIn}`);
    const T = chunk.rows;
    if (T === 0) return undefined;
    const kind = blockKindFor(sae, this.opts.mode);
    const mergeK = kind === 'pre' && sae.activation.kind === 'topk' ? sae.activation.k : undefined;
    const session = await cachedSession(`sae-block-stats:${kind}:${sae.subtractDecoderBias}:${mergeK ?? '-'}`, () => blockStatsGraph(kind, sae.subtractDecoderBias, mergeK), WITH_ARENA);
    const thr = kind === 'threshold' ? await topkThresholds(sae, chunk, this.opts.blockFeatures) : undefined;
    let running: Float32Array | undefined = mergeK === undefined ? undefined : new Float32Array(T * mergeK);
    const K = Math.min(this.k, T);
    const step = this.opts.blockFeatures ?? defaultBlockFeatures(sae, T);
    for (let fs = 0; fs < this.F; fs += step) {
      const fe = Math.min(this.F, fs + step);
      const r = await session.run({
        ...blockFeeds(sae, chunk, fs, fe),
        ...sparsityFeeds(sae, kind, fs, fe, T, thr),
        ...(running ? { R: new ort.Tensor('float32', running, [T, mergeK!]) } : {}),
        K: new ort.Tensor('int64', BigInt64Array.of(BigInt(K)), [1]),
      });
      this.mergeBlock(fs, fe, T, K, r);
      if (running) running = r.R_out!.data as Float32Array;
    }
    this.tokens += T;
    return running ? kthOfRunningTopk(running, T, mergeK!) : thr;
  }

  private mergeBlock(fs: number, fe: number, T: number, K: number, r: ort.InferenceSession.ReturnType): void {
    const mean = r.mean!.data as Float32Array;
    const m2 = r.m2!.data as Float32Array;
    const nnz = r.nnz!.data as Float32Array;
    const max = r.max!.data as Float32Array;
    const topV = r.top_v!.data as Float32Array;
    const topI = r.top_i!.data as BigInt64Array;
    const n = fe - fs;
    const nA = this.tokens;
    const nAll = nA + T;
    const k = this.k;
    const candV = new Float64Array(k + K);
    const candP = new Int32Array(k + K);
    const order = Array.from({ length: k + K }, (_, i) => i);
    for (let j = 0; j < n; j++) {
      const f = fs + j;
      // Chan et al.'s parallel update of mean and sum of squared deviations.
      const delta = mean[j]! - this.mean[f]!;
      this.mean[f] = this.mean[f]! + (delta * T) / nAll;
      this.m2[f] = this.m2[f]! + m2[j]! + (delta * delta * nA * T) / nAll;
      this.nnz[f] = this.nnz[f]! + nnz[j]!;
      if (max[j]! > this.max[f]!) this.max[f] = max[j]!;
      for (let i = 0; i < k; i++) {
        candV[i] = this.topVal[f * k + i]!;
        candP[i] = this.topPos[f * k + i]!;
      }
      for (let i = 0; i < K; i++) {
        candV[k + i] = topV[j * K + i]!;
        candP[k + i] = nA + Number(topI[j * K + i]!);
      }
      // Highest value first; ties (and empty slots) by lower position, empty (−1) last.
      order.sort((a, b) => candV[b]! - candV[a]! || rank(candP[a]!) - rank(candP[b]!));
      for (let i = 0; i < k; i++) {
        this.topVal[f * k + i] = candV[order[i]!]!;
        this.topPos[f * k + i] = candP[order[i]!]!;
      }
    }
  }

  /** Tokens consumed so far: the cursor a resumed activity continues from. */
  get numTokens(): number {
    return this.tokens;
  }

  /** The running state (copies), small enough to persist after every chunk: O(F·k). */
  snapshot(): FeatureStatsState {
    return {
      numTokens: this.tokens,
      topK: this.k,
      mean: this.mean.slice(),
      m2: this.m2.slice(),
      nnz: this.nnz.slice(),
      max: this.max.slice(),
      topPositions: this.topPos.slice(),
      topValues: this.topVal.slice(),
    };
  }

  /** Continues from a snapshot (after a crash or retry); feed the chunks after `state.numTokens`. */
  static restore(sae: Sae, opts: FeatureStatsOptions, state: FeatureStatsState): FeatureStatsAccumulator {
    const acc = new FeatureStatsAccumulator(sae, { ...opts, topK: state.topK });
    if (state.mean.length !== acc.F) throw new Error(`feature stats snapshot has ${state.mean.length} features, SAE has ${acc.F}`);
    acc.tokens = state.numTokens;
    acc.mean.set(state.mean);
    acc.m2.set(state.m2);
    acc.nnz.set(state.nnz);
    acc.max.set(state.max);
    acc.topPos.set(state.topPositions);
    acc.topVal.set(state.topValues);
    return acc;
  }

  finish(): FeatureStats {
    const T = this.tokens;
    const std = new Float64Array(this.F);
    const frequency = new Float64Array(this.F);
    for (let f = 0; f < this.F; f++) {
      std[f] = T > 0 ? Math.sqrt(Math.max(0, this.m2[f]! / T)) : NaN;
      frequency[f] = T > 0 ? this.nnz[f]! / T : NaN;
    }
    return {
      numFeatures: this.F,
      numTokens: T,
      topK: this.k,
      mean: T > 0 ? this.mean.slice() : new Float64Array(this.F).fill(NaN),
      std,
      frequency,
      max: this.max.slice(),
      topPositions: this.topPos.slice(),
      topValues: this.topVal.slice(),
    };
  }
}

function rank(p: number): number {
  return p < 0 ? Number.MAX_SAFE_INTEGER : p;
}

/** One pass over `chunks` (consecutive token ranges, in order). */
export async function computeFeatureStats(sae: Sae, chunks: Iterable<Mat> | AsyncIterable<Mat>, opts: FeatureStatsOptions): Promise<FeatureStats> {
  const acc = new FeatureStatsAccumulator(sae, opts);
  for await (const chunk of chunks) await acc.add(chunk);
  return acc.finish();
}
