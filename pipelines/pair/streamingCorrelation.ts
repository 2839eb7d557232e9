// Feature pairing by activation correlation, streamed: the cross product AᵀB is accumulated per
// (A block × B block) over token chunks on ONNX Runtime, with per-feature sums in the same pass,
// then each block is turned into correlations and reduced to max/argmax along both axes. Memory
// depends on the block plan, never on the number of tokens.
import type { Mat } from '../kernels/gemm.ts';
import {
  accumulateChunk,
  chunkShift,
  emptyTopK,
  mergeTopK,
  reduceCorrelationBlock,
  type RunningTopK,
} from '../kernels/correlationKernels.ts';
import type { ActivationSource } from './activationSource.ts';
import { DEFAULT_MEMORY_BUDGET, planBlocks, type BlockPlan } from './blockPlan.ts';

/**
 * `pearson`: the textbook correlation. `reference`: the original code's (docs/design.md quirk #3):
 * z-scores with the unbiased std plus 1e-8, then ZᴬᵀZᴮ / T — i.e. ≈ pearson · (T−1)/T.
 */
export type CorrelationKind = 'pearson' | 'reference';

export interface CorrelationOptions {
  kind?: CorrelationKind;
  memoryBudgetBytes?: number;
  tokenChunk?: number;
  /** Also track each feature's `topK` highest activations and their token positions (0 = off). */
  topK?: number;
  /** Also return the whole FA × FB correlation matrix (only for small problems, e.g. pools). */
  keepMatrix?: boolean;
  /** Override parts of the block plan chosen from the budget (tests, tuning). */
  plan?: Partial<BlockPlan>;
  /** Called after every block pair (e.g. to heartbeat a long activity). */
  onProgress?: (blockPairsDone: number, blockPairsTotal: number) => void | Promise<void>;
}

export interface FeatureStats {
  mean: Float64Array;
  /** Population standard deviation (divides by T). */
  sd: Float64Array;
}

/** Per feature, its k highest activations (descending, ties by earlier position). */
export interface TopActivations {
  k: number;
  /** values[f * k + r] = r-th highest activation of feature f. */
  values: Float32Array;
  positions: Int32Array;
}

export interface CorrelationPairing {
  kind: CorrelationKind;
  numTokens: number;
  /** For each B feature, the A feature of maximal correlation (lowest index on ties) and that correlation. */
  aForEachB: Int32Array;
  corrForEachB: Float32Array;
  /** For each A feature, the B feature of maximal correlation and that correlation. */
  bForEachA: Int32Array;
  corrForEachA: Float32Array;
  statsA: FeatureStats;
  statsB: FeatureStats;
  topA?: TopActivations;
  topB?: TopActivations;
  /** FA × FB, row-major, when `keepMatrix` was asked for. */
  matrix?: Mat;
  plan: BlockPlan;
}

const REFERENCE_STD_EPS = 1e-8;

/** Per-feature scale turning a centred cross product into a correlation; 0 for constant features. */
function inverseScale(ss: number, t: number, kind: CorrelationKind): number {
  if (!(ss > 0)) return 0;
  if (kind === 'pearson') return 1 / Math.sqrt(ss);
  // (1/T folded into both sides as 1/√T each)
  return 1 / ((Math.sqrt(ss / (t - 1)) + REFERENCE_STD_EPS) * Math.sqrt(t));
}

class SideSums {
  readonly shift: Float32Array;
  readonly sum: Float64Array;
  readonly sq: Float64Array;
  constructor(n: number) {
    this.shift = new Float32Array(n);
    this.sum = new Float64Array(n);
    this.sq = new Float64Array(n);
  }
  add(offset: number, sum: Float32Array, sq: Float32Array): void {
    for (let i = 0; i < sum.length; i++) {
      this.sum[offset + i]! += sum[i]!;
      this.sq[offset + i]! += sq[i]!;
    }
  }
  /** Centred sum of squares, computed from the shifted sums in float64. */
  ss(i: number, t: number): number {
    const s = this.sum[i]!;
    return Math.max(0, this.sq[i]! - (s * s) / t);
  }
  stats(t: number): FeatureStats {
    const n = this.sum.length;
    const mean = new Float64Array(n), sd = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      mean[i] = this.shift[i]! + this.sum[i]! / t;
      sd[i] = Math.sqrt(this.ss(i, t) / t);
    }
    return { mean, sd };
  }
}

function storeTopK(into: TopActivations, offset: number, width: number, run: RunningTopK): void {
  const k = into.k;
  for (let r = 0; r < k; r++) {
    for (let f = 0; f < width; f++) {
      into.values[(offset + f) * k + r] = run.values[r * width + f]!;
      into.positions[(offset + f) * k + r] = Number(run.positions[r * width + f]!);
    }
  }
}

/** Correlate every A feature with every B feature over all tokens and keep the best matches. */
export async function correlateFeatures(a: ActivationSource, b: ActivationSource, opts: CorrelationOptions = {}): Promise<CorrelationPairing> {
  if (a.numTokens !== b.numTokens) throw new Error(`token counts differ: A has ${a.numTokens}, B has ${b.numTokens}`);
  const T = a.numTokens;
  if (T < 2) throw new Error(`need at least 2 tokens to correlate, got ${T}`);
  const FA = a.numFeatures, FB = b.numFeatures;
  const kind = opts.kind ?? 'pearson';
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  const plan = { ...planBlocks(FA, FB, T, budget, opts.tokenChunk), ...opts.plan };
  if (opts.keepMatrix && FA * FB * 4 > budget) {
    throw new Error(`a ${FA} × ${FB} correlation matrix does not fit the memory budget of ${budget} bytes`);
  }
  const k = Math.min(opts.topK ?? 0, T);

  const sideA = new SideSums(FA), sideB = new SideSums(FB);
  const aForEachB = new Int32Array(FB), corrForEachB = new Float32Array(FB).fill(-Infinity);
  const bForEachA = new Int32Array(FA), corrForEachA = new Float32Array(FA).fill(-Infinity);
  const topA = k > 0 ? { k, values: new Float32Array(FA * k), positions: new Int32Array(FA * k) } : undefined;
  const topB = k > 0 ? { k, values: new Float32Array(FB * k), positions: new Int32Array(FB * k) } : undefined;
  const matrix = opts.keepMatrix ? { data: new Float32Array(FA * FB), rows: FA, cols: FB } : undefined;

  // Two accumulator buffers of the largest block size, swapped every chunk and reused by every
  // block pair (edge blocks use a prefix), so no block-sized buffer is allocated per chunk.
  const cells = Math.min(FA, plan.blockA) * Math.min(FB, plan.blockB);
  const pairsTotal = Math.ceil(FA / plan.blockA) * Math.ceil(FB / plan.blockB);
  let pairsDone = 0;
  let bufX: Float32Array = new Float32Array(cells), bufY: Float32Array = new Float32Array(cells);
  for (let a0 = 0; a0 < FA; a0 += plan.blockA) {
    const a1 = Math.min(FA, a0 + plan.blockA), wa = a1 - a0;
    for (let b0 = 0; b0 < FB; b0 += plan.blockB) {
      const b1 = Math.min(FB, b0 + plan.blockB), wb = b1 - b0;
      // A's sums are gathered on its first pass (b0 = 0), B's on theirs (a0 = 0); later passes reuse them.
      const firstForA = b0 === 0, firstForB = a0 === 0;
      let acc: Float32Array = bufX.subarray(0, wa * wb).fill(0);
      let spare: Float32Array = bufY.subarray(0, wa * wb);
      let runA = firstForA && k > 0 ? emptyTopK(k, wa) : undefined;
      let runB = firstForB && k > 0 ? emptyTopK(k, wb) : undefined;
      for (let t0 = 0; t0 < T; t0 += plan.tokenChunk) {
        const t1 = Math.min(T, t0 + plan.tokenChunk);
        const [ca, cb] = await Promise.all([a.read(t0, t1, a0, a1), b.read(t0, t1, b0, b1)]);
        if (t0 === 0 && firstForA) sideA.shift.set(await chunkShift(ca), a0);
        if (t0 === 0 && firstForB) sideB.shift.set(await chunkShift(cb), b0);
        const sums = await accumulateChunk(ca, cb, sideA.shift.subarray(a0, a1), sideB.shift.subarray(b0, b1), acc, spare);
        [acc, spare] = [sums.acc, acc];
        if (firstForA) sideA.add(a0, sums.sumA, sums.sqA);
        if (firstForB) sideB.add(b0, sums.sumB, sums.sqB);
        if (runA) runA = await mergeTopK(runA, ca, t0);
        if (runB) runB = await mergeTopK(runB, cb, t0);
      }
      if (acc.buffer !== bufX.buffer) [bufX, bufY] = [bufY, bufX];
      if (runA && topA) storeTopK(topA, a0, wa, runA);
      if (runB && topB) storeTopK(topB, b0, wb, runB);

      const meanA = new Float32Array(wa), invA = new Float32Array(wa);
      for (let i = 0; i < wa; i++) {
        meanA[i] = sideA.sum[a0 + i]! / T;
        invA[i] = inverseScale(sideA.ss(a0 + i, T), T, kind);
      }
      const sumB = new Float32Array(wb), invB = new Float32Array(wb);
      for (let j = 0; j < wb; j++) {
        sumB[j] = sideB.sum[b0 + j]!;
        invB[j] = inverseScale(sideB.ss(b0 + j, T), T, kind);
      }
      const red = await reduceCorrelationBlock(acc, meanA, sumB, invA, invB, !!matrix);
      // Strict '>' keeps the earlier block on ties, so argmax is the lowest index overall.
      for (let j = 0; j < wb; j++) {
        if (red.maxOverA[j]! > corrForEachB[b0 + j]!) {
          corrForEachB[b0 + j] = red.maxOverA[j]!;
          aForEachB[b0 + j] = a0 + Number(red.argOverA[j]!);
        }
      }
      for (let i = 0; i < wa; i++) {
        if (red.maxOverB[i]! > corrForEachA[a0 + i]!) {
          corrForEachA[a0 + i] = red.maxOverB[i]!;
          bForEachA[a0 + i] = b0 + Number(red.argOverB[i]!);
        }
      }
      if (matrix && red.corr) {
        for (let i = 0; i < wa; i++) matrix.data.set(red.corr.data.subarray(i * wb, (i + 1) * wb), (a0 + i) * FB + b0);
      }
      await opts.onProgress?.(++pairsDone, pairsTotal);
    }
  }

  const result: CorrelationPairing = {
    kind,
    numTokens: T,
    aForEachB,
    corrForEachB,
    bForEachA,
    corrForEachA,
    statsA: sideA.stats(T),
    statsB: sideB.stats(T),
    plan,
  };
  if (topA) result.topA = topA;
  if (topB) result.topB = topB;
  if (matrix) result.matrix = matrix;
  return result;
}
