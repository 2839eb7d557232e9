// A measure's observed score against a permutation null: the rows of y are permuted N times
// (pairing row i of x with row perm[i] of y), each permuted score computed, and
//   p = (1 + #{null at least as similar as observed}) / (1 + N)            (default)
//   p = mean(null ≥ observed)                                              (`reference`, quirk #4)
// Measures with a fast null (prepareNull) reuse what permutation does not change; the others
// recompute from scratch. Permutations are drawn and scored in batches, so memory stays bounded
// whatever N is. The observed score is the identity permutation's score by the same route as
// the permuted ones (same kernels, same precision), so a permutation that happens to equal the
// identity scores exactly the observed value and counts as "at least as similar": a p-value is
// never decided by rounding between two code paths. (`measure.score` stays the precise
// standalone score.) Next to p: the effect (observed − null mean)/null sd, the smallest p this
// null can give, and the measure's saturation verdict.
import type { Mat } from '../kernels/gemm.ts';
import { gatherRows } from './matrix.ts';
import { checkPermutations, seededPermutations } from './permutations.ts';
import type { Measure, MeasureOptions, PreparedNull } from './types.ts';
import { checkPairedInput } from './validate.ts';

export type PValueRule = 'described' | 'reference';

/**
 * How far a null has come: its observed score and the first `done` permuted scores. A null given
 * this as `resume` scores only permutations done..N-1 (each permutation depends only on the seed and
 * its index, so the result is the uninterrupted null's).
 */
export interface NullProgress {
  observed: number;
  done: number;
  scores: Float64Array;
}

export interface NullOptions {
  /** A count of seeded permutations (default 1000) or explicit permutations of 0..n-1. */
  permutations?: number | readonly (ArrayLike<number>)[];
  seed?: number;
  pValue?: PValueRule;
  /** Keep every permuted score in the result. */
  keepScores?: boolean;
  /** Recompute every permuted score from scratch even when the measure has a fast null (tests, benches). */
  slow?: boolean;
  measure?: MeasureOptions;
  /** Continue a null that an earlier run (a killed activity attempt) left at this point. */
  resume?: NullProgress;
  /** Called after every batch of permutations with a copy of the progress so far (to checkpoint it). */
  onBatch?: (progress: NullProgress) => void | Promise<void>;
  /**
   * A score the measure's saturation rule flags (known before any permutation) is returned
   * without its null — 0 permutations, NaN null moments and p, no effect — for callers that keep
   * only the reason of a saturated score. Where the measure finds the rule's extras without
   * preparing the null (`saturationExtras`), the observed score is not computed either (NaN).
   */
  skipNullWhenSaturated?: boolean;
}

export interface NullResult {
  observed: number;
  nullMean: number;
  nullSd: number;
  /** (observed − null mean) / null sd; null when the null has no spread beyond rounding (effectSize). Negative = more similar for distances. */
  effect: number | null;
  p: number;
  /** The smallest p this null can give: max(1/(1 + N), 1/n!) (n! distinct permutations of n rows). */
  pFloor: number;
  permutations: number;
  /** The score is uninformative by construction (the measure's `saturation` rule); why in `saturatedReason`. */
  saturated: boolean;
  saturatedReason?: string;
  nullScores?: number[];
  /** The measure's extra outputs (SVCCA: kA, kB). */
  extras?: Record<string, number>;
}

function isIdentity(p: Int32Array): boolean {
  for (let i = 0; i < p.length; i++) if (p[i] !== i) return false;
  return true;
}

function slowNull(measure: Measure, x: Mat, y: Mat, opts: MeasureOptions | undefined): Promise<PreparedNull> {
  // score(x, y) is what scoring y gathered by the identity gives (the same rows, copied): kept for
  // the extras and reused for identity permutations.
  return measure.score(x, y, opts).then((observed) => ({
    ...(observed.extras ? { extras: observed.extras } : {}),
    batchSize: 1,
    async scorePermuted(perms) {
      const out = new Float64Array(perms.length);
      for (let i = 0; i < perms.length; i++) out[i] = isIdentity(perms[i]!) ? observed.score : (await measure.score(x, gatherRows(y, perms[i]!), opts)).score;
      return out;
    },
  }));
}

/**
 * A null sd at or below this fraction of the scores' magnitude is f32 rounding, not spread (e.g.
 * a saturated SVCCA, whose every permuted score is 1 up to rounding): no effect is measured
 * against it. Real nulls spread far more (SVCCA at n = 8192, d = 512: 2e-4 of its mean).
 */
export const ROUNDING_SD = 1e-6;

/** Mean and sample sd of null scores (NaN mean and sd 0 for none; sd 0 for one). */
export function nullMoments(scores: ArrayLike<number>): { nullMean: number; nullSd: number } {
  const n = scores.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += scores[i]!;
  const nullMean = n ? sum / n : Number.NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (scores[i]! - nullMean) ** 2;
  return { nullMean, nullSd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/** (observed − mean) / sd, or null when the null has no spread beyond rounding to measure against. */
export function effectSize(observed: number, nullMean: number, nullSd: number): number | null {
  if (!Number.isFinite(nullSd) || !Number.isFinite(observed) || !Number.isFinite(nullMean)) return null;
  if (!(nullSd > ROUNDING_SD * Math.max(Math.abs(nullMean), Math.abs(observed)))) return null;
  return (observed - nullMean) / nullSd;
}

/** max(1/(1 + N), 1/n!): no null of N permutations of n rows gives a smaller p (in expectation). */
export function pFloor(n: number, permutations: number): number {
  let factorial = 1;
  for (let k = 2; k <= n && factorial < 1e15; k++) factorial *= k;
  return Math.max(1 / (1 + permutations), 1 / factorial);
}

/** Why a null of N permutations of n rows cannot reach p ≤ alpha, or undefined when it can. */
export function coarseNullReason(n: number, permutations: number, alpha = 0.05): string | undefined {
  const floor = pFloor(n, permutations);
  if (floor <= alpha) return undefined;
  const why = 1 / (1 + permutations) >= floor ? `${permutations} permutation${permutations === 1 ? '' : 's'}` : `${n} rows (${n}! distinct permutations)`;
  return `a null of ${why} cannot reach p ≤ ${alpha} (smallest p ${floor.toPrecision(2)})`;
}

export function pValue(observed: number, nulls: ArrayLike<number>, rule: PValueRule, largerIsMoreSimilar = true): number {
  let atLeast = 0;
  for (let i = 0; i < nulls.length; i++) {
    const v = nulls[i]!;
    if (largerIsMoreSimilar ? v >= observed : v <= observed) atLeast++;
  }
  if (rule === 'reference') return nulls.length === 0 ? Number.NaN : atLeast / nulls.length;
  return (1 + atLeast) / (1 + nulls.length);
}

export async function permutationNull(measure: Measure, x: Mat, y: Mat, opts: NullOptions = {}): Promise<NullResult> {
  checkPairedInput(measure, x, y);
  const given = typeof opts.permutations === 'object' ? checkPermutations(opts.permutations, x.rows) : undefined;
  const count = given ? given.length : (opts.permutations as number | undefined) ?? 1000;
  if (opts.skipNullWhenSaturated && measure.saturation && measure.saturationExtras) {
    const extras = await measure.saturationExtras(x, y, opts.measure);
    const reason = measure.saturation(x.rows, extras, x, y);
    if (reason !== undefined) {
      const r = withoutNull(Number.NaN, x.rows, reason);
      return { ...r, extras, ...(opts.keepScores ? { nullScores: [] } : {}) };
    }
  }
  const prepared = !opts.slow && measure.prepareNull ? await measure.prepareNull(x, y, opts.measure) : await slowNull(measure, x, y, opts.measure);
  const saturatedReason = measure.saturation?.(x.rows, prepared.extras ?? {}, x, y);
  const drawn = saturatedReason !== undefined && opts.skipNullWhenSaturated ? 0 : count;
  const resume = drawn > 0 ? opts.resume : undefined;
  const scores = new Float64Array(drawn);
  let observed: number;
  try {
    if (resume && !(Number.isInteger(resume.done) && resume.done >= 0 && resume.done <= count && resume.scores.length === resume.done)) {
      throw new Error(`permutationNull: cannot resume at ${resume.done} of ${count} permutations with ${resume.scores.length} scores`);
    }
    const identity = Int32Array.from({ length: x.rows }, (_, i) => i);
    observed = resume ? resume.observed : (await prepared.scorePermuted([identity]))[0]!;
    if (resume) scores.set(resume.scores);
    // Seeded permutations are drawn batch by batch (never all N at once): permutation k depends
    // only on (seed, k), so the batch size (and where a resumed null starts) does not change the null.
    const seed = opts.seed ?? 0;
    for (let start = resume?.done ?? 0; start < drawn; start += prepared.batchSize) {
      const end = Math.min(drawn, start + prepared.batchSize);
      const batch = given ? given.slice(start, end) : nullPermutations(x.rows, seed, start, end);
      scores.set(await prepared.scorePermuted(batch), start);
      await opts.onBatch?.({ observed, done: end, scores: scores.slice(0, end) });
    }
  } finally {
    prepared.dispose?.();
  }
  const { nullMean, nullSd } = nullMoments(scores);
  const result: NullResult =
    drawn === 0
      ? withoutNull(observed, x.rows, saturatedReason)
      : {
          observed,
          nullMean,
          nullSd,
          effect: effectSize(observed, nullMean, nullSd),
          p: pValue(observed, scores, opts.pValue ?? 'described', measure.properties.largerIsMoreSimilar),
          pFloor: pFloor(x.rows, drawn),
          permutations: drawn,
          saturated: saturatedReason !== undefined,
          ...(saturatedReason !== undefined ? { saturatedReason } : {}),
        };
  if (opts.keepScores) result.nullScores = Array.from(scores);
  if (prepared.extras) result.extras = prepared.extras;
  return result;
}

/** A score without a null: none was asked for, or skipNullWhenSaturated spared a saturated score its permutations. */
function withoutNull(observed: number, n: number, saturatedReason: string | undefined): NullResult {
  return {
    observed,
    nullMean: Number.NaN,
    nullSd: Number.NaN,
    effect: null,
    p: Number.NaN,
    pFloor: pFloor(n, 0),
    permutations: 0,
    saturated: saturatedReason !== undefined,
    ...(saturatedReason !== undefined ? { saturatedReason } : {}),
  };
}

/** Permutations start..end-1 of the seeded null drawn with `seed` for n rows. */
export function nullPermutations(n: number, seed: number, start: number, end: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let k = start; k < end; k++) out.push(seededPermutations(n, 1, permutationSeed(seed, k))[0]!);
  return out;
}

/** The generator seed of permutation `index` of a null drawn with `seed`. */
export function permutationSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}
