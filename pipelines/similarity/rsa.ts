// RSA: per side the n×n similarity of rows (Pearson correlation of rows, or Euclidean distance),
// then the Spearman correlation of the two lower triangles — the original's
// representational_similarity_analysis with inner = correlation / euclidean, outer = spearman.
//
// Null: the RDM of permuted rows is the permuted RDM, and ranking commutes with permuting, so
// each side is ranked once. A permuted score is Σ_{i>j} zA[i,j]·zB[perm i, perm j] over the
// z-scored rank vectors: no new RDM, no new ranking — a gather-dot over the triangle, with row
// perm[i] of B read contiguously, split over threads (triangleDotsPool.ts).
import type { Mat } from '../kernels/gemm.ts';
import { expandSymmetric, lowerTriangle, type RdmKind } from './rdm.ts';
import { zScoredRanksInPlace } from './ranks.ts';
import { triangleDots } from './triangleDotsPool.ts';
import type { Measure, PreparedNull } from './types.ts';

async function rankedTriangle(x: Mat, kind: RdmKind): Promise<Float32Array> {
  const tri = await lowerTriangle(x, kind);
  zScoredRanksInPlace(tri);
  return tri;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Permutations per pass over the triangle: A's row is reused from cache across the batch. */
const RSA_BATCH = 8;

async function prepareRsaNull(x: Mat, y: Mat, kind: RdmKind): Promise<PreparedNull> {
  const za = await rankedTriangle(x, kind);
  const zb = expandSymmetric(await rankedTriangle(y, kind), y.rows);
  const dots = triangleDots(za, zb, y.rows);
  return {
    batchSize: RSA_BATCH,
    scorePermuted: (perms) => dots.dots(perms),
    dispose: () => dots.close(),
  };
}

function rsaMeasure(name: 'rsa' | 'rsa-euclidean', kind: RdmKind, description: string): Measure {
  return {
    name,
    description,
    properties: {
      symmetric: true,
      largerIsMoreSimilar: true,
      // Row correlation centres each row over its own columns: a rotation or a common shift of
      // the columns changes it. Distances are unchanged by both.
      invariances: { orthogonal: kind === 'euclidean', isotropicScaling: true, translation: kind === 'euclidean', permutationOfColumns: true },
    },
    minRows: 4,
    async score(x, y) {
      return { score: dot(await rankedTriangle(x, kind), await rankedTriangle(y, kind)) };
    },
    prepareNull: (x, y) => prepareRsaNull(x, y, kind),
  };
}

export const rsa = rsaMeasure('rsa', 'correlation', 'RSA: Spearman correlation of the lower triangles of the row-correlation matrices');
export const rsaEuclidean = rsaMeasure('rsa-euclidean', 'euclidean', 'RSA with Euclidean-distance RDMs (Spearman of the lower triangles)');
