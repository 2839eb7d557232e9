// A score's spread over features: resample the n paired rows with replacement (row i of x stays
// with row i of y), score each resample with the measure's own score. Resample k depends only on
// (seed, k), so a retried or extended run draws the same ones.
import type { Mat } from '../kernels/gemm.ts';
import { seededRandom } from '../random.ts';
import { gatherRows } from './matrix.ts';
import type { Measure } from './types.ts';

export function bootstrapIndices(n: number, seed: number, k: number): Int32Array {
  const rand = seededRandom((Math.imul(seed >>> 0, 0x27d4eb2f) + Math.imul(k + 1, 0x165667b1)) >>> 0);
  return Int32Array.from({ length: n }, () => Math.floor(rand() * n));
}

/** `resamples` scores of the measure on paired rows resampled with replacement. */
export async function bootstrapScores(measure: Measure, x: Mat, y: Mat, opts: { resamples: number; seed: number }): Promise<Float64Array> {
  if (x.rows !== y.rows) throw new Error(`bootstrap needs paired rows, got ${x.rows} and ${y.rows}`);
  const out = new Float64Array(opts.resamples);
  for (let k = 0; k < opts.resamples; k++) {
    const idx = bootstrapIndices(x.rows, opts.seed, k);
    out[k] = (await measure.score(gatherRows(x, idx), gatherRows(y, idx))).score;
  }
  return out;
}

/** The q-quantile of values (linear interpolation between order statistics), NaN when empty. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values).sort();
  if (v.length === 0) return Number.NaN;
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo]! + (pos - lo) * (v[hi]! - v[lo]!);
}
