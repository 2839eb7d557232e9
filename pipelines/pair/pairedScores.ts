// The contract between pairing and the similarity measures: a score of two paired row sets
// (row i of x ↔ row i of y) against a permutation null. The implementation is the similarity
// stage's (SVCCA, RSA and their nulls); pairing and subspace code take it as a parameter.
import type { Mat } from '../kernels/gemm.ts';

export type PairedMetric = 'svcca' | 'rsa';

/** `reference`: the original code's SVCCA (quirk #1) and p-value; `described`: textbook. */
export type ScoreMode = 'described' | 'reference';

export interface ScoreWithNull {
  observed: number;
  nullMean: number;
  nullSd: number;
  /** (observed − nullMean) / nullSd; null when the null has no spread beyond rounding. For distances, negative = more similar. */
  effect: number | null;
  p: number;
  permutations: number;
  /** The score is uninformative by construction (the measure's saturation rule); why in `saturatedReason`. */
  saturated: boolean;
  saturatedReason?: string;
}

export interface PairedScoreOptions {
  mode: ScoreMode;
  permutations: number;
  seed: number;
  /** Return a saturated score without drawing its null (permutationNull's skipNullWhenSaturated). */
  skipNullWhenSaturated?: boolean;
}

export type PairedScorer = (metric: PairedMetric, x: Mat, y: Mat, opts: PairedScoreOptions) => Promise<ScoreWithNull>;
