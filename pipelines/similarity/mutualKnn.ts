// Mutual k-NN as Huh et al. (2024, "The Platonic Representation Hypothesis") define it: rows
// unit-normalised, each row's k nearest other rows by inner product (= cosine) in each space,
// score = mean over rows of |N_k(i) ∩ N'_k(i)| / k (k = 10). `knn` scores the same neighbour
// sets by their Jaccard index c/(2k − c) instead of c/k.
import { neighbourCount, neighbourGraph, sharedNeighbours, type NeighbourGraph } from './neighbours.ts';
import { sharedFractionSaturation } from './saturation.ts';
import type { Measure } from './types.ts';

/** Mean |N_x(i) ∩ N_y(i)|/k; y's row i is y row perm[i] (identity when perm is omitted). */
export function meanSharedFraction(gx: NeighbourGraph, gy: NeighbourGraph, perm?: Int32Array): number {
  let total = 0;
  for (const c of sharedNeighbours(gx, gy, perm)) total += c;
  return total / (gx.n * gx.k);
}

export const mutualKnn: Measure = {
  name: 'mutual-knn',
  description: 'mutual k-NN (Huh et al. 2024): mean fraction of each row\'s k cosine nearest neighbours shared by the two spaces (k = 10)',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: false, permutationOfColumns: true } },
  minRows: 3,
  async score(x, y, opts) {
    const k = neighbourCount(x.rows, opts);
    return { score: meanSharedFraction(await neighbourGraph(x, k), await neighbourGraph(y, k)), extras: { k } };
  },
  async prepareNull(x, y, opts) {
    const k = neighbourCount(x.rows, opts);
    const gx = await neighbourGraph(x, k);
    const gy = await neighbourGraph(y, k);
    return {
      extras: { k },
      batchSize: 16,
      scorePermuted: async (perms) => Float64Array.from(perms, (p) => meanSharedFraction(gx, gy, p)),
    };
  },
  saturation: (n, extras) => sharedFractionSaturation(n, extras.k ?? neighbourCount(n)),
};
