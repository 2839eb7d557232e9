// k-NN Jaccard: for every row, its k nearest other rows by cosine similarity in each space; the
// score is the mean Jaccard index of the two neighbour sets (as the original's
// jaccard_similarity with inner = cosine). Huh et al.'s mutual k-NN (|∩|/k) is `mutual-knn`.
// Saturation: with k near n − 1 (k is capped at n − 2) random neighbour sets overlap mostly.
import { neighbourCount, neighbourGraph, sharedNeighbours, type NeighbourGraph } from './neighbours.ts';
import { neighbourSaturation } from './saturation.ts';
import type { Measure } from './types.ts';

/** Mean Jaccard of neighbour sets; y's row i is y row perm[i] (identity when perm is omitted). */
export function meanJaccard(gx: NeighbourGraph, gy: NeighbourGraph, perm?: Int32Array): number {
  const shared = sharedNeighbours(gx, gy, perm);
  let total = 0;
  for (const c of shared) total += c / (2 * gx.k - c);
  return total / gx.n;
}

export const knn: Measure = {
  name: 'knn',
  description: 'k-NN Jaccard: mean Jaccard index of each row\'s k cosine nearest neighbours in the two spaces (k = 10)',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: false, permutationOfColumns: true } },
  minRows: 3,
  async score(x, y, opts) {
    const k = neighbourCount(x.rows, opts);
    return { score: meanJaccard(await neighbourGraph(x, k), await neighbourGraph(y, k)), extras: { k } };
  },
  async prepareNull(x, y, opts) {
    const k = neighbourCount(x.rows, opts);
    const gx = await neighbourGraph(x, k);
    const gy = await neighbourGraph(y, k);
    return {
      extras: { k },
      batchSize: 16,
      scorePermuted: async (perms) => Float64Array.from(perms, (p) => meanJaccard(gx, gy, p)),
    };
  },
  saturation: (n, extras) => neighbourSaturation(n, extras.k ?? neighbourCount(n)),
};
