// k-NN Jaccard: for every row, its k nearest other rows by cosine similarity in each space; the
// score is the mean Jaccard index of the two neighbour sets (as the original's
// jaccard_similarity with inner = cosine). Huh et al.'s mutual k-NN (|∩|/k) is `mutual-knn`.
// Saturation: with k near n − 1 (k is capped at n − 2) random neighbour sets overlap mostly.
import { neighbourMeasure, sharedNeighbours, type NeighbourGraph } from './neighbours.ts';
import { neighbourSaturation } from './saturation.ts';

/** Mean Jaccard of neighbour sets; y's row i is y row perm[i] (identity when perm is omitted). */
export function meanJaccard(gx: NeighbourGraph, gy: NeighbourGraph, perm?: Int32Array): number {
  const shared = sharedNeighbours(gx, gy, perm);
  let total = 0;
  for (const c of shared) total += c / (2 * gx.k - c);
  return total / gx.n;
}

export const knn = neighbourMeasure('knn', 'k-NN Jaccard: mean Jaccard index of each row\'s k cosine nearest neighbours in the two spaces (k = 10)', meanJaccard, neighbourSaturation);
