// SVCCA: keep each side's top singular directions, then the mean canonical correlation between
// the kept spaces = mean singular value of UxᵀUy (orthonormal bases). Textbook (99% variance)
// and the original code's variant (its component rule keeps one direction; quirk #1).
//
// Null: permuting the rows of y permutes the rows of its centred data and of its basis Uy, so
// each side's SVD is done once; a permuted score is the mean singular value of Uxᵀ·P·Uy, gathered
// multiplied and its nuclear norm found for a batch of permutations in one ONNX call (f32 Polar
// Express steps on the Gram of each product scaled by its largest canonical correlation, then a
// series finish with a bound on what it misses, permutedCanonicalNorms; a product the fast steps
// do not settle goes through the unit schedule). The null's observed score is the identity
// permutation's, by the same route.
//
// Saturation: the kept directions of n centred rows span at most n − 1 dimensions, so SVCCA is 1
// by construction once a side keeps n − 1 of them, and inflated with fewer than 2·k rows.
import type { Mat } from '../kernels/gemm.ts';
import { sessionOptions } from '../kernels/session.ts';
import { keptCount, singularBasis, type ComponentRule, type SingularBasis } from './basis.ts';
import { crossProduct } from './graphs.ts';
import { transpose } from './matrix.ts';
import { permutedCanonicalNorms, singularValues } from './spectrum.ts';
import { componentSaturation } from './saturation.ts';
import type { Measure, MeasureResult, PreparedNull } from './types.ts';

/** Bytes one null batch may use (gathered basis rows, products, iteration temporaries). */
export const NULL_BATCH_BYTES = 256 * 2 ** 20;

/**
 * Permutations per null batch: as many as NULL_BATCH_BYTES holds (at most `max`), rounded down to
 * a multiple of the sessions' intra-op threads once there are that many. A batched MatMul whose
 * batch is at least the thread count gives each product one thread, so 7 products on 2 threads
 * run as 4 then 3: SVCCA's null at 8192 × 486/751 measured 64–65 ms per permutation in batches
 * of 7 against 59–60 ms in batches of 6 or 8 (best of five runs of each, alternating, one process).
 */
export function batchFor(bytesPerPermutation: number, max = 64): number {
  const fits = Math.max(1, Math.min(max, Math.floor(NULL_BATCH_BYTES / bytesPerPermutation)));
  const threads = Math.max(1, sessionOptions().intraOpNumThreads ?? 1);
  return fits < threads ? fits : fits - (fits % threads);
}

export interface CanonicalCorrelations {
  correlations: Float64Array;
  kA: number;
  kB: number;
}

async function correlationsOf(bx: SingularBasis, by: SingularBasis): Promise<Float64Array> {
  return singularValues(await crossProduct(bx.u, by.u, false), bx.k, by.k).map((v) => Math.min(1, v));
}

export async function svccaCorrelations(x: Mat, y: Mat, rule: ComponentRule): Promise<CanonicalCorrelations> {
  const bx = await singularBasis(x, rule);
  const by = await singularBasis(y, rule);
  return { correlations: await correlationsOf(bx, by), kA: bx.k, kB: by.k };
}

function result(correlations: Float64Array, kA: number, kB: number): MeasureResult {
  return { score: correlations.reduce((a, b) => a + b, 0) / correlations.length, extras: { kA, kB } };
}

async function prepareSvccaNull(x: Mat, y: Mat, rule: ComponentRule): Promise<PreparedNull> {
  const bx = await singularBasis(x, rule);
  const by = await singularBasis(y, rule);
  const uxT = transpose(bx.u);
  const r = Math.min(bx.k, by.k);
  return {
    extras: { kA: bx.k, kB: by.k },
    batchSize: batchFor(4 * (x.rows * by.k + 7 * bx.k * by.k + 3 * r * r)),
    async scorePermuted(perms) {
      const norms = await permutedCanonicalNorms(uxT, by.u, perms);
      return norms.map((v) => Math.min(r, v) / r);
    },
  };
}

function svccaMeasure(name: 'svcca' | 'svcca-reference', rule: ComponentRule, description: string): Measure {
  return {
    name,
    description,
    // The reference rule depends on the total variance, so rescaling one side changes its k.
    properties: {
      symmetric: true,
      largerIsMoreSimilar: true,
      invariances: { orthogonal: true, isotropicScaling: rule !== 'reference', translation: true, permutationOfColumns: true },
    },
    minRows: 3,
    async score(x, y) {
      const c = await svccaCorrelations(x, y, rule);
      return result(c.correlations, c.kA, c.kB);
    },
    prepareNull: (x, y) => prepareSvccaNull(x, y, rule),
    saturation: (n, extras) => componentSaturation(n, extras.kA ?? 0, extras.kB ?? 0),
    saturationExtras: async (x, y) => ({ kA: await keptCount(x, rule), kB: await keptCount(y, rule) }),
  };
}

export const svcca = svccaMeasure('svcca', 'variance99', 'SVCCA: mean canonical correlation of the top singular directions explaining 99% of each side\'s variance');
export const svccaReference = svccaMeasure(
  'svcca-reference',
  'reference',
  'SVCCA as the original code computes it (its 99% rule keeps one direction when total variance > ~1.01)',
);
