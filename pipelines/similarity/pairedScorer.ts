// The PairedScorer the pairing and subspace stages call (pipelines/pair/pairedScores.ts):
// `described` = textbook SVCCA / RSA with p = (1 + #{null ≥ observed}) / (1 + N);
// `reference` = the original code's SVCCA (quirk #1), the same RSA, and p = mean(null ≥ observed)
// (quirk #4).
import type { PairedMetric, PairedScorer, ScoreMode, ScoreWithNull } from '../pair/pairedScores.ts';
import { permutationNull, type NullResult } from './permutationNull.ts';
import { MEASURES } from './registry.ts';
import type { MeasureName } from './types.ts';

export function measureFor(metric: PairedMetric, mode: ScoreMode): MeasureName {
  if (metric === 'svcca') return mode === 'reference' ? 'svcca-reference' : 'svcca';
  return 'rsa';
}

export const pairedScorer: PairedScorer = async (metric, x, y, opts) => {
  const r = await permutationNull(MEASURES[measureFor(metric, opts.mode)], x, y, {
    permutations: opts.permutations,
    seed: opts.seed,
    pValue: opts.mode,
    ...(opts.skipNullWhenSaturated ? { skipNullWhenSaturated: true } : {}),
  });
  return withNull(r);
};

/** The ScoreWithNull fields of a permutation null's result (what stored scores keep). */
export function withNull(r: NullResult): ScoreWithNull {
  return {
    observed: r.observed,
    nullMean: r.nullMean,
    nullSd: r.nullSd,
    effect: r.effect,
    p: r.p,
    permutations: r.permutations,
    saturated: r.saturated,
    ...(r.saturatedReason !== undefined ? { saturatedReason: r.saturatedReason } : {}),
  };
}
