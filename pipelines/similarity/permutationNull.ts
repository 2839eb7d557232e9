// A measure's observed score against a permutation null: the rows of y are permuted N times
// (pairing row i of x with row perm[i] of y), each permuted score computed, and
//   p = (1 + #{null at least as similar as observed}) / (1 + N)            (default)
//   p = mean(null ≥ observed)                                              (`reference`, quirk #4)
// Measures with a fast null (prepareNull) reuse what permutation does not change; the others
// recompute from scratch. Permutations are drawn and scored in batches, so memory stays bounded
// whatever N is.
import type { Mat } from '../kernels/gemm.ts';
import { gatherRows } from './matrix.ts';
import { checkPermutations, seededPermutations } from './permutations.ts';
import type { Measure, MeasureOptions, PreparedNull } from './types.ts';
import { checkPairedInput } from './validate.ts';

export type PValueRule = 'described' | 'reference';

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
}

export interface NullResult {
  observed: number;
  nullMean: number;
  nullSd: number;
  p: number;
  permutations: number;
  nullScores?: number[];
  /** The measure's extra outputs (SVCCA: kA, kB). */
  extras?: Record<string, number>;
}

function slowNull(measure: Measure, x: Mat, y: Mat, opts: MeasureOptions | undefined): Promise<PreparedNull> {
  return measure.score(x, y, opts).then((observed) => ({
    observed,
    batchSize: 1,
    async scorePermuted(perms) {
      const out = new Float64Array(perms.length);
      for (let i = 0; i < perms.length; i++) out[i] = (await measure.score(x, gatherRows(y, perms[i]!), opts)).score;
      return out;
    },
  }));
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
  const prepared = !opts.slow && measure.prepareNull ? await measure.prepareNull(x, y, opts.measure) : await slowNull(measure, x, y, opts.measure);
  const scores = new Float64Array(count);
  // Seeded permutations are drawn batch by batch (never all N at once): permutation k depends
  // only on (seed, k), so the batch size does not change the null.
  const seed = opts.seed ?? 0;
  for (let start = 0; start < count; start += prepared.batchSize) {
    const end = Math.min(count, start + prepared.batchSize);
    const batch = given ? given.slice(start, end) : nullPermutations(x.rows, seed, start, end);
    scores.set(await prepared.scorePermuted(batch), start);
  }
  const observed = prepared.observed.score;
  let sum = 0;
  for (const v of scores) sum += v;
  const nullMean = count ? sum / count : Number.NaN;
  let ss = 0;
  for (const v of scores) ss += (v - nullMean) ** 2;
  const result: NullResult = {
    observed,
    nullMean,
    nullSd: count > 1 ? Math.sqrt(ss / (count - 1)) : 0,
    p: pValue(observed, scores, opts.pValue ?? 'described', measure.properties.largerIsMoreSimilar),
    permutations: count,
  };
  if (opts.keepScores) result.nullScores = Array.from(scores);
  if (prepared.observed.extras) result.extras = prepared.observed.extras;
  return result;
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
