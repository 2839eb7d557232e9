// Pairing restricted to one semantic category: every B feature of the category takes its most
// correlated A feature of the category, then one B per A is kept (the best-correlated).
import { featureSubsetSource, type ActivationSource } from '../pair/activationSource.ts';
import { correlateFeatures, type CorrelationKind, type GroupBest } from '../pair/streamingCorrelation.ts';

/** One category's features on each side (original indices). */
export interface CategoryFeatures {
  featuresA: number[];
  featuresB: number[];
}

export interface CategoryPairs {
  /** Original feature indices, ascending by B feature. */
  pairsA: number[];
  pairsB: number[];
  corr: number[];
}

export async function pairWithinCategory(
  a: ActivationSource,
  b: ActivationSource,
  featuresA: readonly number[],
  featuresB: readonly number[],
  opts: { kind?: CorrelationKind; minCorrelation?: number; memoryBudgetBytes?: number } = {},
): Promise<CategoryPairs> {
  if (featuresA.length === 0 || featuresB.length === 0) return { pairsA: [], pairsB: [], corr: [] };
  const r = await correlateFeatures(featureSubsetSource(a, featuresA), featureSubsetSource(b, featuresB), {
    kind: opts.kind ?? 'pearson',
    ...(opts.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: opts.memoryBudgetBytes } : {}),
  });
  return categoryPairsFrom(featuresA, featuresB, { aForEachB: r.aForEachB, corrForEachB: r.corrForEachB }, opts.minCorrelation);
}

/**
 * A category's pairs from each of its B features' best A feature of the category (a GroupBest:
 * local indices into featuresA): one B per A is kept, the best-correlated (the earlier B on ties),
 * and only pairs above `minCorrelation`.
 */
export function categoryPairsFrom(featuresA: readonly number[], featuresB: readonly number[], best: GroupBest, minCorrelation = -Infinity): CategoryPairs {
  const kept = new Map<number, number>(); // local A → local B
  for (let j = 0; j < featuresB.length; j++) {
    if (!(best.corrForEachB[j]! > -Infinity)) continue;
    const i = best.aForEachB[j]!;
    const prev = kept.get(i);
    if (prev === undefined || best.corrForEachB[j]! > best.corrForEachB[prev]!) kept.set(i, j);
  }
  const out: CategoryPairs = { pairsA: [], pairsB: [], corr: [] };
  for (let j = 0; j < featuresB.length; j++) {
    const i = best.aForEachB[j]!;
    if (kept.get(i) !== j || !(best.corrForEachB[j]! > minCorrelation)) continue;
    out.pairsA.push(featuresA[i]!);
    out.pairsB.push(featuresB[j]!);
    out.corr.push(best.corrForEachB[j]!);
  }
  return out;
}
