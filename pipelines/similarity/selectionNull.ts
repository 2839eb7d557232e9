// The selection-aware null's arithmetic: the observed score against the scores that re-pairing
// with B's documents shifted produced (pipelines/pair/documentShift.ts). Each shift is a whole
// pairing, so there are few of them (similarity.selectionShifts, default 10) and a rank p could
// never go below 1/(1 + shifts). The p is parametric instead: if the observed score and the k
// shift scores were draws of one normal distribution, (observed − mean)/(sd·√(1 + 1/k)) follows
// Student's t with k − 1 degrees of freedom (the prediction interval of a new draw), so
//   p = P(T_{k−1} ≥ ±(observed − mean)/(sd·√(1 + 1/k)))       (sign: + for larger-is-more-similar)
// with sd the sample sd (k − 1). A null whose scores do not spread beyond rounding (effectSize
// gives null) falls back to the rank rule (1 + #{shift at least as similar}) / (1 + k).
import type { ScoreWithNull } from '../pair/pairedScores.ts';
import { effectSize, pValue } from './permutationNull.ts';
import { studentTUpperTail } from './studentT.ts';

/** Fewest scored shifts a selection p is computed from (a sample sd needs two). */
export const MIN_SCORED_SHIFTS = 2;

export function selectionNullScore(observed: number, shiftScores: readonly number[], largerIsMoreSimilar: boolean): ScoreWithNull {
  const k = shiftScores.length;
  if (k < MIN_SCORED_SHIFTS) throw new Error(`a selection null needs at least ${MIN_SCORED_SHIFTS} scored shifts, got ${k}`);
  const mean = shiftScores.reduce((s, v) => s + v, 0) / k;
  const sd = Math.sqrt(shiftScores.reduce((s, v) => s + (v - mean) ** 2, 0) / (k - 1));
  const effect = effectSize(observed, mean, sd);
  const p =
    effect === null
      ? pValue(observed, shiftScores, 'described', largerIsMoreSimilar)
      : studentTUpperTail(((largerIsMoreSimilar ? 1 : -1) * effect) / Math.sqrt(1 + 1 / k), k - 1);
  return { observed, nullMean: mean, nullSd: sd, effect, p, permutations: k, saturated: false };
}
