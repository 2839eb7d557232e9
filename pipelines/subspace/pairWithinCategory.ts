// Pairing restricted to one semantic category: every B feature of the category takes its most
// correlated A feature of the category, then one B per A is kept (the best-correlated).
import { featureSubsetSource, type ActivationSource } from '../pair/activationSource.ts';
import { correlateFeatures, type CorrelationKind } from '../pair/streamingCorrelation.ts';

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
  const best = new Map<number, number>(); // local A → local B
  for (let j = 0; j < featuresB.length; j++) {
    const i = r.aForEachB[j]!;
    const prev = best.get(i);
    if (prev === undefined || r.corrForEachB[j]! > r.corrForEachB[prev]!) best.set(i, j);
  }
  const minCorr = opts.minCorrelation ?? -Infinity;
  const out: CategoryPairs = { pairsA: [], pairsB: [], corr: [] };
  for (let j = 0; j < featuresB.length; j++) {
    const i = r.aForEachB[j]!;
    if (best.get(i) !== j || !(r.corrForEachB[j]! > minCorr)) continue;
    out.pairsA.push(featuresA[i]!);
    out.pairsB.push(featuresB[j]!);
    out.corr.push(r.corrForEachB[j]!);
  }
  return out;
}
