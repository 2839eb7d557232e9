// One-to-one pairing of a layer pair (`pairing.method: hungarian | ot | decoder`), on top of the greedy pass
// that pairLayer already made: that pass supplies each feature's mean activation (the pool is the
// most active features per side, as the original's viewer pools them) and its top tokens (the
// keyword filter). The assignment's pairs then go through the same filter chain as greedy pairs,
// so the counts mean the same stages: assigned pairs → concept/shared tokens → one B per A (a
// no-op for Hungarian; an OT hard map may send two B features to one A) → correlation threshold.
// Pure function of its inputs (no storage); the pair activity stores what it returns.
import type { Mat } from '../kernels/gemm.ts';
import type { ActivationSource } from './activationSource.ts';
import { filterPairs, type FilterCounts } from './filters.ts';
import { mostActiveFeatures, pairOneToOne, type OneToOneMethod } from './oneToOne.ts';
import type { LayerPairing } from './pairLayer.ts';

export interface OneToOneLayerOptions {
  method: OneToOneMethod;
  poolSize: number;
  /** Sinkhorn regularisation (ot only). */
  epsilon: number;
  minCorrelation: number;
  /** decoder: both SAEs' decoder rows (F × d). */
  decoders?: { a: Mat; b: Mat };
}

export interface OneToOneLayerPairs {
  method: OneToOneMethod;
  poolA: number;
  poolB: number;
  /** Kept pairs, ascending by B feature, with the correlation the assignment used. */
  pairsA: number[];
  pairsB: number[];
  correlation: number[];
  counts: FilterCounts;
  /** Means over the assigned pairs and over the kept ones, original formula and Pearson (as LayerPairing's). */
  meanCorr: number;
  meanCorrFiltered: number;
  meanPearson: number;
  meanPearsonFiltered: number;
  /** Sum of the assigned correlations (Hungarian: the maximised objective; decoder: of the assigned decoder cosines). */
  total: number;
  /** ot: Sinkhorn iterations and whether the marginals converged. */
  iterations?: number;
  converged?: boolean;
}

const REFERENCE_STD_EPS = 1e-8;

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((s, v) => s + v, 0) / xs.length;
}

export async function oneToOneLayerPairs(a: ActivationSource, b: ActivationSource, greedy: LayerPairing, opts: OneToOneLayerOptions): Promise<OneToOneLayerPairs> {
  const { statsA, statsB, numTokens: T } = greedy.pairing;
  const poolA = mostActiveFeatures(statsA.mean, opts.poolSize);
  const poolB = mostActiveFeatures(statsB.mean, opts.poolSize);
  const one = await pairOneToOne(a, b, {
    method: opts.method,
    poolA,
    poolB,
    // The same correlation as the greedy pass: Pearson, or the original's formula under `reference`.
    kind: greedy.mode === 'reference' ? 'reference' : 'pearson',
    ...(opts.method === 'ot' ? { sinkhorn: { epsilon: opts.epsilon } } : {}),
    ...(opts.decoders ? { decoders: opts.decoders } : {}),
  });
  const assignedB = poolB.filter((f) => one.aForEachB[f]! >= 0);
  const filtered = filterPairs({
    aForEachB: assignedB.map((f) => one.aForEachB[f]!),
    corrForEachB: assignedB.map((f) => one.corrForEachB[f]!),
    topTokensA: greedy.topTokensA,
    topTokensB: assignedB.map((f) => greedy.topTokensB[f]!),
    mode: greedy.mode,
    minCorrelation: opts.minCorrelation,
  });
  // filterPairs numbers B by position in `assignedB`; map back to feature indices.
  const pairsB = filtered.pairsB.map((k) => assignedB[k]!);

  // The two correlation formulas differ by a per-pair factor of the two stds (pairLayer's twins).
  const ratio = (fa: number, fb: number) => {
    const sdA = statsA.sd[fa]!, sdB = statsB.sd[fb]!;
    if (sdA === 0 || sdB === 0) return 0;
    const unbiased = Math.sqrt(T / (T - 1));
    return (sdA * sdB) / ((sdA * unbiased + REFERENCE_STD_EPS) * (sdB * unbiased + REFERENCE_STD_EPS));
  };
  const asReference = (fb: number) => {
    const c = one.corrForEachB[fb]!;
    return greedy.mode === 'reference' ? c : c * ratio(one.aForEachB[fb]!, fb);
  };
  const asPearson = (fb: number) => {
    const c = one.corrForEachB[fb]!;
    if (greedy.mode === 'described') return c;
    const r = ratio(one.aForEachB[fb]!, fb);
    return r === 0 ? 0 : c / r;
  };
  return {
    method: opts.method,
    poolA: poolA.length,
    poolB: poolB.length,
    pairsA: filtered.pairsA,
    pairsB,
    correlation: pairsB.map((fb) => one.corrForEachB[fb]!),
    counts: filtered.counts,
    meanCorr: mean(assignedB.map(asReference)),
    meanCorrFiltered: mean(pairsB.map(asReference)),
    meanPearson: mean(assignedB.map(asPearson)),
    meanPearsonFiltered: mean(pairsB.map(asPearson)),
    total: one.total,
    ...(one.iterations !== undefined ? { iterations: one.iterations, converged: one.converged ?? false } : {}),
  };
}
