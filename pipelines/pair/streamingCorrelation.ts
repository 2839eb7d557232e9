// Feature pairing by activation correlation, streamed: the cross product AᵀB is accumulated per
// (A block × B block) over token chunks on ONNX Runtime, with per-feature sums in the same pass,
// then each block is turned into correlations and reduced to max/argmax along both axes. Memory
// depends on the block plan, never on the number of tokens.
import type { Mat } from '../kernels/gemm.ts';
import {
  accumulateShifted,
  shiftChunk,
  chunkShift,
  emptyTopK,
  mergeTopK,
  reduceCorrelationBlock,
  type RunningTopK,
} from '../kernels/correlationKernels.ts';
import type { ActivationSource } from './activationSource.ts';
import { COMPUTED_SOURCE_TOKEN_CHUNK, DEFAULT_MEMORY_BUDGET, DEFAULT_TOKEN_CHUNK, planBlocks, type BlockPlan } from './blockPlan.ts';

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
  /**
   * Groups of features (e.g. semantic categories) also paired among themselves in the same pass:
   * per group, each of its B features' best A feature of the group (`within` in the result). The
   * row accumulators already hold every cross product, so a group costs |A_g| × |B_g| scalar
   * steps here, against 2·T·|A_g|·|B_g| flops (and both sides' encoding) in a pass of its own.
   */
  within?: readonly FeatureGroup[];
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

/** Some A features and some B features (original indices, each list ascending). */
export interface FeatureGroup {
  featuresA: readonly number[];
  featuresB: readonly number[];
}

/** A group's pairing among its own features: for its j-th B feature, the index into featuresA of its best A feature, and that correlation (−∞ without A features). */
export interface GroupBest {
  aForEachB: Int32Array;
  corrForEachB: Float32Array;
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
  /** One per `within` group, in order. */
  within?: GroupBest[];
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
  restore(shift: Float32Array, sum: Float64Array, sq: Float64Array): void {
    this.shift.set(shift);
    this.sum.set(sum);
    this.sq.set(sq);
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

/**
 * Everything a correlation has accumulated, at a point where it can continue: after `rowsDone`
 * rows of A blocks, and within the next row after `chunksDone` token chunks (with the row's
 * accumulators). Small but for the accumulators (blockA × FB floats); a retried attempt given it
 * continues where it stopped and gives the same result.
 */
export interface CorrelationCheckpoint {
  plan: BlockPlan;
  rowsDone: number;
  chunksDone: number;
  shiftA: Float32Array;
  sumA: Float64Array;
  sqA: Float64Array;
  shiftB: Float32Array;
  sumB: Float64Array;
  sqB: Float64Array;
  aForEachB: Int32Array;
  corrForEachB: Float32Array;
  bForEachA: Int32Array;
  corrForEachA: Float32Array;
  topA?: TopActivations;
  topB?: TopActivations;
  /** The current row's running top-k of A and of B (first row only), mid-row. */
  runA?: RunningTopK;
  runB?: RunningTopK[];
  /** The current row's accumulators, one wa × wb block per B block, concatenated (mid-row only). */
  acc?: Float32Array;
  matrix?: Float32Array;
  /** The `within` groups' best pairs over the rows done. */
  within?: GroupBest[];
}

export interface CheckpointOptions {
  /** Continue from this state (a previous attempt's last checkpoint). */
  resume?: CorrelationCheckpoint;
  /**
   * Called with the state once `everyMs` has passed since the last call: mid-row (with the row's
   * accumulators, a GiB at 8192 × 32768) only when the row will not end within `everyMs` by its
   * pace so far, else at the row's end, where the state is small. So at most ~2·everyMs of work
   * is lost, and rows shorter than the interval never write their accumulators. The state's `acc`
   * is the running row itself, not a copy: valid until the call's promise resolves, so write it
   * out or copy it by then.
   */
  save?: (state: CorrelationCheckpoint) => void | Promise<void>;
  everyMs?: number;
}

/**
 * Correlate every A feature with every B feature over all tokens and keep the best matches.
 *
 * Loop order: for each row of A features (blockA of them), the token chunks, then every B block
 * of the row, each with its own accumulator. An A block's activations are read once per chunk and
 * reused across the row; a B block is read once per row. With SAE sources (activations recomputed
 * from residuals) the extra encoding is a fraction d_B / blockA of the correlation's own work,
 * which is why blockA is as large as the memory budget allows (planBlocks).
 */
export async function correlateFeatures(a: ActivationSource, b: ActivationSource, opts: CorrelationOptions & CheckpointOptions = {}): Promise<CorrelationPairing> {
  if (a.numTokens !== b.numTokens) throw new Error(`token counts differ: A has ${a.numTokens}, B has ${b.numTokens}`);
  const T = a.numTokens;
  if (T < 2) throw new Error(`need at least 2 tokens to correlate, got ${T}`);
  const FA = a.numFeatures, FB = b.numFeatures;
  const kind = opts.kind ?? 'pearson';
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  const tokenChunk = opts.tokenChunk ?? (b.accumulateShifted ? COMPUTED_SOURCE_TOKEN_CHUNK : DEFAULT_TOKEN_CHUNK);
  const plan = opts.resume?.plan ?? { ...planBlocks(FA, FB, T, budget, tokenChunk), ...opts.plan };
  if (opts.keepMatrix && FA * FB * 4 > budget) {
    throw new Error(`a ${FA} × ${FB} correlation matrix does not fit the memory budget of ${budget} bytes`);
  }
  const k = Math.min(opts.topK ?? 0, T);
  const r0 = opts.resume;

  const sideA = new SideSums(FA), sideB = new SideSums(FB);
  const aForEachB = r0?.aForEachB.slice() ?? new Int32Array(FB);
  const corrForEachB = r0?.corrForEachB.slice() ?? new Float32Array(FB).fill(-Infinity);
  const bForEachA = r0?.bForEachA.slice() ?? new Int32Array(FA);
  const corrForEachA = r0?.corrForEachA.slice() ?? new Float32Array(FA).fill(-Infinity);
  const topA = k > 0 ? (r0?.topA ?? { k, values: new Float32Array(FA * k), positions: new Int32Array(FA * k) }) : undefined;
  const topB = k > 0 ? (r0?.topB ?? { k, values: new Float32Array(FB * k), positions: new Int32Array(FB * k) }) : undefined;
  const matrix = opts.keepMatrix ? { data: r0?.matrix ?? new Float32Array(FA * FB), rows: FA, cols: FB } : undefined;
  const groups = opts.within?.map((g, i) => checkedGroup(g, i, FA, FB));
  const within = groups?.map((g, i) => {
    const saved = r0?.within?.[i];
    if (r0 && (r0.within?.length !== groups.length || saved?.aForEachB.length !== g.featuresB.length)) {
      throw new Error('correlation checkpoint: it was taken with other feature groups (within) than these');
    }
    return saved ? { aForEachB: saved.aForEachB.slice(), corrForEachB: saved.corrForEachB.slice() } : { aForEachB: new Int32Array(g.featuresB.length), corrForEachB: new Float32Array(g.featuresB.length).fill(-Infinity) };
  });
  if (r0) {
    sideA.restore(r0.shiftA, r0.sumA, r0.sqA);
    sideB.restore(r0.shiftB, r0.sumB, r0.sqB);
  }

  // The B blocks of a row and their offsets in the row's accumulator buffer.
  const bBlocks: { b0: number; b1: number; offset: number }[] = [];
  for (let b0 = 0, off = 0; b0 < FB; b0 += plan.blockB) {
    const b1 = Math.min(FB, b0 + plan.blockB);
    bBlocks.push({ b0, b1, offset: off });
    off += Math.min(plan.blockA, FA) * (b1 - b0);
  }
  const rowCells = Math.min(plan.blockA, FA) * FB;
  const largestBlock = Math.min(plan.blockA, FA) * Math.min(plan.blockB, FB);
  const rows = Math.ceil(FA / plan.blockA);
  const pairsTotal = rows * bBlocks.length;
  let pairsDone = (r0?.rowsDone ?? 0) * bBlocks.length;
  // One accumulator per B block of the row (views of one buffer), and one spare the size of the
  // largest: each accumulate writes into the spare and is copied back (a copy per 2·chunk flops).
  const row = new Float32Array(rowCells);
  const spare = new Float32Array(largestBlock);
  // Each row's accumulators start from this zero block at the row's first chunk, instead of
  // zeroing the whole row (2 GiB at 16384 × 32768: seconds per row).
  const zeros = new Float32Array(largestBlock);
  // Chunks and shifted chunks are written into these, reused for every chunk: a fresh 256 MB
  // buffer per read costs page faults and collections.
  const chunkA = new Float32Array(plan.tokenChunk * Math.min(plan.blockA, FA));
  const chunkB = new Float32Array(plan.tokenChunk * Math.min(plan.blockB, FB));
  const shiftedA = new Float32Array(chunkA.length);
  const shiftedB = new Float32Array(chunkB.length);
  const slots = bBlocks.map((blk) => row.subarray(blk.offset, blk.offset + Math.min(plan.blockA, FA) * (blk.b1 - blk.b0)));
  let lastSave = Date.now();
  const everyMs = opts.everyMs ?? 60_000;
  const chunksPerRow = Math.ceil(T / plan.tokenChunk);
  let rowStarted = Date.now();
  /** Milliseconds until the row ends, at the pace of its `done` chunks so far. */
  const rowEndsAfter = (done: number, left: number) => ((Date.now() - rowStarted) / Math.max(1, done)) * left;

  for (let r = r0?.rowsDone ?? 0; r < rows; r++) {
    const a0 = r * plan.blockA, a1 = Math.min(FA, a0 + plan.blockA), wa = a1 - a0;
    const firstRow = r === 0;
    const resumeMid = r0 && r0.rowsDone === r && r0.chunksDone > 0 ? r0 : undefined;
    if (resumeMid?.acc) row.set(resumeMid.acc);
    // The last row may be narrower: its accumulators are the leading part of each slot.
    const accOf = (j: number) => slots[j]!.subarray(0, wa * (bBlocks[j]!.b1 - bBlocks[j]!.b0));
    let runA = k > 0 ? (resumeMid?.runA ?? emptyTopK(k, wa)) : undefined;
    const runB = firstRow && k > 0 ? (resumeMid?.runB ?? bBlocks.map((blk) => emptyTopK(k, blk.b1 - blk.b0))) : undefined;
    const firstChunk = resumeMid?.chunksDone ?? 0;
    rowStarted = Date.now();
    for (let c = firstChunk, t0 = firstChunk * plan.tokenChunk; t0 < T; c++, t0 += plan.tokenChunk) {
      const t1 = Math.min(T, t0 + plan.tokenChunk);
      const ca = await a.read(t0, t1, a0, a1, chunkA);
      if (t0 === 0) sideA.shift.set(await chunkShift(ca), a0);
      if (runA) runA = await mergeTopK(runA, ca, t0);
      // Shifted once per chunk and reused by every B block of the row.
      const sa = await shiftChunk(ca, sideA.shift.subarray(a0, a1), shiftedA);
      sideA.add(a0, sa.sum, sa.sq);
      for (let j = 0; j < bBlocks.length; j++) {
        const { b0, b1 } = bBlocks[j]!;
        const acc = accOf(j);
        const out = spare.subarray(0, acc.length);
        const accIn = c === 0 ? zeros.subarray(0, acc.length) : acc;
        // After the first row a B block is only accumulated: a computing source fuses that.
        if (!firstRow && b.accumulateShifted) {
          acc.set(await b.accumulateShifted(t0, t1, b0, b1, { shift: sideB.shift.subarray(b0, b1), a: sa.shifted, acc: accIn, out }));
          continue;
        }
        const cb = await b.read(t0, t1, b0, b1, chunkB);
        if (t0 === 0 && firstRow) sideB.shift.set(await chunkShift(cb), b0);
        const sb = await shiftChunk(cb, sideB.shift.subarray(b0, b1), shiftedB);
        if (firstRow) sideB.add(b0, sb.sum, sb.sq);
        if (runB) runB[j] = await mergeTopK(runB[j]!, cb, t0);
        acc.set(await accumulateShifted(sa.shifted, sb.shifted, accIn, out));
      }
      if (opts.save && Date.now() - lastSave >= everyMs && t1 < T && rowEndsAfter(c + 1 - firstChunk, chunksPerRow - (c + 1)) >= everyMs) {
        lastSave = Date.now();
        await opts.save(snapshot(r, c + 1, { acc: row, ...(runA ? { runA } : {}), ...(runB ? { runB } : {}) }));
      }
    }
    if (runA && topA) storeTopK(topA, a0, wa, runA);
    if (runB && topB) bBlocks.forEach((blk, j) => storeTopK(topB, blk.b0, blk.b1 - blk.b0, runB[j]!));

    const meanA = new Float32Array(wa), invA = new Float32Array(wa);
    for (let i = 0; i < wa; i++) {
      meanA[i] = sideA.sum[a0 + i]! / T;
      invA[i] = inverseScale(sideA.ss(a0 + i, T), T, kind);
    }
    for (let j = 0; j < bBlocks.length; j++) {
      const { b0, b1 } = bBlocks[j]!;
      const wb = b1 - b0;
      const sumB = new Float32Array(wb), invB = new Float32Array(wb);
      for (let q = 0; q < wb; q++) {
        sumB[q] = sideB.sum[b0 + q]!;
        invB[q] = inverseScale(sideB.ss(b0 + q, T), T, kind);
      }
      const red = await reduceCorrelationBlock(accOf(j), meanA, sumB, invA, invB, !!matrix);
      if (groups && within) groups.forEach((g, gi) => bestWithinBlock(g, within[gi]!, accOf(j), a0, a1, b0, b1, meanA, sumB, invA, invB));
      // Strict '>' keeps the earlier block on ties, so argmax is the lowest index overall.
      for (let q = 0; q < wb; q++) {
        if (red.maxOverA[q]! > corrForEachB[b0 + q]!) {
          corrForEachB[b0 + q] = red.maxOverA[q]!;
          aForEachB[b0 + q] = a0 + Number(red.argOverA[q]!);
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
    if (opts.save && r + 1 < rows && Date.now() - lastSave >= everyMs) {
      lastSave = Date.now();
      await opts.save(snapshot(r + 1, 0, {}));
    }
  }

  function snapshot(rowsDone: number, chunksDone: number, mid: Pick<CorrelationCheckpoint, 'acc' | 'runA' | 'runB'>): CorrelationCheckpoint {
    return {
      plan,
      rowsDone,
      chunksDone,
      shiftA: sideA.shift.slice(),
      sumA: sideA.sum.slice(),
      sqA: sideA.sq.slice(),
      shiftB: sideB.shift.slice(),
      sumB: sideB.sum.slice(),
      sqB: sideB.sq.slice(),
      aForEachB: aForEachB.slice(),
      corrForEachB: corrForEachB.slice(),
      bForEachA: bForEachA.slice(),
      corrForEachA: corrForEachA.slice(),
      ...(topA ? { topA: { k: topA.k, values: topA.values.slice(), positions: topA.positions.slice() } } : {}),
      ...(topB ? { topB: { k: topB.k, values: topB.values.slice(), positions: topB.positions.slice() } } : {}),
      ...(matrix ? { matrix: matrix.data.slice() } : {}),
      ...(within ? { within: within.map((w) => ({ aForEachB: w.aForEachB.slice(), corrForEachB: w.corrForEachB.slice() })) } : {}),
      ...mid,
    };
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
  if (within) result.within = within;
  return result;
}

function checkedGroup(g: FeatureGroup, index: number, FA: number, FB: number): FeatureGroup {
  const ascending = (xs: readonly number[], n: number) => xs.every((x, i) => Number.isInteger(x) && x >= 0 && x < n && (i === 0 || x > xs[i - 1]!));
  if (!ascending(g.featuresA, FA) || !ascending(g.featuresB, FB)) {
    throw new Error(`feature group ${index}: features must be distinct, ascending indices below ${FA} (A) and ${FB} (B)`);
  }
  return g;
}

/** First index of ascending `xs` at or above `v`. */
function lowerBound(xs: readonly number[], v: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A group's share of one block (A features [a0, a1) × B features [b0, b1), accumulator `acc`):
 * each correlation as reduceCorrelationBlock's graph computes it, in the same float32 steps, and
 * the group's best A for each of its B features. Rows and A features come in ascending order and
 * only a strictly higher correlation replaces, so ties keep the lowest A feature.
 */
function bestWithinBlock(g: FeatureGroup, best: GroupBest, acc: Float32Array, a0: number, a1: number, b0: number, b1: number, meanA: Float32Array, sumB: Float32Array, invA: Float32Array, invB: Float32Array): void {
  const f = Math.fround;
  const wb = b1 - b0;
  const i0 = lowerBound(g.featuresA, a0), i1 = lowerBound(g.featuresA, a1);
  const j0 = lowerBound(g.featuresB, b0), j1 = lowerBound(g.featuresB, b1);
  for (let i = i0; i < i1; i++) {
    const ra = g.featuresA[i]! - a0;
    const m = meanA[ra]!, s = invA[ra]!;
    for (let j = j0; j < j1; j++) {
      const cb = g.featuresB[j]! - b0;
      const c = f(f(f(acc[ra * wb + cb]! - f(m * sumB[cb]!)) * s) * invB[cb]!);
      if (c > best.corrForEachB[j]!) {
        best.corrForEachB[j] = c;
        best.aForEachB[j] = i;
      }
    }
  }
}
