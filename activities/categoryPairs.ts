// The semantic categories' within-category pairings of one layer pair, as their own artifact:
// addressed by the exact feature lists paired (not by the pair artifact), so whichever stage
// first has them stores them and the other finds them. The pair activity gets them from the
// whole-space correlation's own accumulators at almost no cost; the subspace stage computes them
// only when those lists differ (categories changed after the pairing ran).
import { sha256Bytes } from '../storage/atomic.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import type { CategoryFeatures, CategoryPairs } from '../pipelines/subspace/pairWithinCategory.ts';
import { produce, readJsonArtifact } from './storeAccess.ts';
import type { LayerPairInput } from './types.ts';

export const CATEGORY_PAIRS_FILE = 'category-pairs.json';

export function categoryPairsSpec(input: LayerPairInput, features: readonly CategoryFeatures[]) {
  return {
    stage: 'category-pairs',
    codeVersion: codeVersionFor('category-pairs'),
    params: {
      layerA: input.a.layer,
      layerB: input.b.layer,
      compat: input.compat,
      encode: input.pairing.encode,
      features: sha256Bytes(JSON.stringify(features.map((c) => [c.featuresA, c.featuresB]))),
    },
    inputs: [input.a.extractId, input.b.extractId, input.a.saeId, input.b.saeId],
  };
}

/** The stored pairings of `features`, computed by `pair` (and stored) when there are none yet; `produced`: computed now. */
export async function categoryPairs(store: ArtifactStore, input: LayerPairInput, features: readonly CategoryFeatures[], pair: () => Promise<CategoryPairs[]>): Promise<{ pairs: CategoryPairs[]; produced: boolean }> {
  const { manifest, reused } = await produce(store, categoryPairsSpec(input, features), async (writer) => {
    const pairs = await pair();
    if (pairs.length !== features.length) throw new Error(`${pairs.length} category pairings for ${features.length} categories`);
    await writer.writeJson(CATEGORY_PAIRS_FILE, pairs);
    return { counts: { categories: pairs.length, pairs: pairs.reduce((n, p) => n + p.pairsA.length, 0) } };
  });
  return { pairs: await readJsonArtifact<CategoryPairs[]>(store, manifest.id, CATEGORY_PAIRS_FILE), produced: !reused };
}
