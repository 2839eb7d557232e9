// Mutual k-NN as Huh et al. (2024, "The Platonic Representation Hypothesis") define it: rows
// unit-normalised, each row's k nearest other rows by inner product (= cosine) in each space,
// score = mean over rows of |N_k(i) ∩ N'_k(i)| / k (k = 10). `knn` scores the same neighbour
// sets by their Jaccard index c/(2k − c) instead of c/k.
import { neighbourMeasure, sharedNeighbours, type NeighbourGraph } from './neighbours.ts';
import { sharedFractionSaturation } from './saturation.ts';

/** Mean |N_x(i) ∩ N_y(i)|/k; y's row i is y row perm[i] (identity when perm is omitted). */
export function meanSharedFraction(gx: NeighbourGraph, gy: NeighbourGraph, perm?: Int32Array): number {
  let total = 0;
  for (const c of sharedNeighbours(gx, gy, perm)) total += c;
  return total / (gx.n * gx.k);
}

export const mutualKnn = neighbourMeasure('mutual-knn', 'mutual k-NN (Huh et al. 2024): mean fraction of each row\'s k cosine nearest neighbours shared by the two spaces (k = 10)', meanSharedFraction, sharedFractionSaturation);
