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
import { DEFAULT_MEMORY_BUDGET } from '../pair/blockPlan.ts';
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

/**
 * Peak bytes per squared row: one side's ranked triangle (2n², f32) and the other's full ranked
 * matrix (4n²), and while a triangle is ranked its sort keys and indices twice (8n²) next to the
 * triangle (2n²) and the first side's (2n²) — 12·n² at the peak (n = 8192: 0.8 GB).
 */
const BYTES_PER_ROW_SQUARED = 12;

/** Why n rows do not fit the memory budget, or undefined (n = 8192 needs 0.8 GB; the 4 GiB default holds 18 900 rows). */
export function rsaSizeLimit(n: number, budget = DEFAULT_MEMORY_BUDGET): string | undefined {
  const need = BYTES_PER_ROW_SQUARED * n * n;
  if (need <= budget) return undefined;
  const fit = Math.floor(Math.sqrt(budget / BYTES_PER_ROW_SQUARED));
  const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
  return `RSA of ${n} paired rows ranks ${n}×${n} similarity matrices and needs ~${gib(need)}, more than the memory budget of ${gib(budget)} (UFG_MEMORY_BUDGET_MB): at most ${fit} rows fit; score a subsample of the pairs, or raise the budget`;
}

/** Permutations per pass over the triangle: A's row is reused from cache across the batch (4 was fastest at n = 2000; 8 and 16 spill L1). */
const RSA_BATCH = 4;

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
    sizeLimit: (n) => rsaSizeLimit(n),
    async score(x, y) {
      return { score: dot(await rankedTriangle(x, kind), await rankedTriangle(y, kind)) };
    },
    prepareNull: (x, y) => prepareRsaNull(x, y, kind),
  };
}

export const rsa = rsaMeasure('rsa', 'correlation', 'RSA: Spearman correlation of the lower triangles of the row-correlation matrices');
export const rsaEuclidean = rsaMeasure('rsa-euclidean', 'euclidean', 'RSA with Euclidean-distance RDMs (Spearman of the lower triangles)');
