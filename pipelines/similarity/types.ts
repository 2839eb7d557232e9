// The measure contract, in the spirit of ReSi/repsim: one scoring function per measure plus the
// properties it declares (symmetry, invariances). The declarations are not documentation only:
// the property tests are generated from them, so a measure that declares an invariance it lacks
// fails the suite.
import type { Mat } from '../kernels/gemm.ts';

export type MeasureName = 'svcca' | 'svcca-reference' | 'pwcca' | 'rsa' | 'rsa-euclidean' | 'cka' | 'cka-debiased' | 'knn' | 'mutual-knn' | 'cknna' | 'procrustes' | 'mean-corr';

/** Transformations of one side that leave the score unchanged (applied to the columns of every row). */
export interface Invariances {
  /** x → x·Q for any orthogonal Q. */
  orthogonal: boolean;
  /** x → c·x for c > 0. */
  isotropicScaling: boolean;
  /** x → x + 1·vᵀ (the same vector added to every row). */
  translation: boolean;
  /** x → x·P for a permutation P of the columns. */
  permutationOfColumns: boolean;
}

export interface MeasureProperties {
  /** score(x, y) = score(y, x). */
  symmetric: boolean;
  /** false for distances (Procrustes): the null then counts scores at or below the observed one. */
  largerIsMoreSimilar: boolean;
  invariances: Invariances;
}

export interface MeasureOptions {
  /** Neighbourhood size of `knn`, `mutual-knn` and `cknna` (default 10, capped at n − 2). */
  k?: number;
}

export interface MeasureResult {
  score: number;
  /** Extra outputs that belong with the score (SVCCA: kept component counts kA, kB). */
  extras?: Record<string, number>;
}

/** The shape of one side, as saturation rules see it. */
export type Shape = { rows: number; cols: number };

/**
 * What one measure keeps between the observed score and the null: everything that does not change
 * when the rows of y are permuted (bases, rank vectors, neighbour lists), so a permuted score costs
 * far less than a new one. The observed score is the identity permutation's score through
 * `scorePermuted`, so it has the null's precision and a p-value is never decided by rounding;
 * a permuted score must therefore not depend on which other permutations share its batch.
 */
export interface PreparedNull {
  /** The measure's extra outputs for (x, y) (they do not change under a permutation of rows). */
  extras?: Record<string, number>;
  /** Scores of (x, y[perm[i]]) for each permutation, in order. */
  scorePermuted(perms: readonly Int32Array[]): Promise<Float64Array>;
  /** How many permutations one `scorePermuted` call should get so memory stays bounded. */
  batchSize: number;
  /** Releases what the null holds beyond its own memory (threads' references); called once it is done. */
  dispose?(): void;
}

export interface Measure {
  name: MeasureName;
  /** One line for `--help` and reports. */
  description: string;
  properties: MeasureProperties;
  /** Fewest paired rows the score is defined on. */
  minRows: number;
  /** Both sides must have the same number of columns (matched-column measures). */
  equalWidths?: boolean;
  /** The precise standalone score (f64 where it matters); permutationNull scores through prepareNull. */
  score(x: Mat, y: Mat, opts?: MeasureOptions): Promise<MeasureResult>;
  /**
   * Why a score of n paired rows with these extras and shapes is uninformative by construction
   * (pinned at or near the measure's best value whatever the rows hold), or undefined when it is
   * not. The property tests check it on independent rows: declared shapes score near the best,
   * and no measure scores near its best on independent rows without declaring it.
   */
  saturation?(n: number, extras: Readonly<Record<string, number>>, x: Shape, y: Shape): string | undefined;
  /**
   * The extras `saturation` reads, found more cheaply than by prepareNull (SVCCA: the kept
   * direction counts from each side's eigenvalues, with no basis), so a caller that keeps only the
   * reason of a saturated score need not compute the score (permutationNull's skipNullWhenSaturated).
   */
  saturationExtras?(x: Mat, y: Mat, opts?: MeasureOptions): Promise<Record<string, number>>;
  /**
   * Why n paired rows are more than this measure can hold in memory here (its size grows faster
   * than the input's), or undefined when they fit.
   */
  sizeLimit?(n: number): string | undefined;
  /** Fast null; without it the null recomputes `score` on every permuted input. */
  prepareNull?(x: Mat, y: Mat, opts?: MeasureOptions): Promise<PreparedNull>;
}
