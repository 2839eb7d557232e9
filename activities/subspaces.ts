// Semantic subspaces of one layer pair (cpu queue): per category, features whose whole-word
// labels (made by the pairing's label rule from its stored top activations) hit a keyword,
// paired one-to-one among themselves, SVCCA and RSA with nulls (effect and saturation with each;
// a score that cannot mean anything is stored as skipped with the reason).
import type { PairedScorer } from '../pipelines/pair/pairedScores.ts';
import { analyseSubspaces, MIN_PAIRS, type CategoryAnalysis } from '../pipelines/subspace/analyseSubspaces.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { sweepCategories } from './categories.ts';
import { runActivity } from './context.ts';
import { loadLayerPair, readTop } from './layerData.ts';
import { runComputeJob, releaseArenaSessions } from '../pipelines/kernels/session.ts';
import { CATEGORY_PAIRS_JOB, type CategoryPairsJobArgs, type CategoryPairsProgress } from '../pipelines/subspace/categoryPairsJob.ts';
import type { CategoryPairs } from '../pipelines/subspace/pairWithinCategory.ts';
import { produce, readJsonArtifact } from './storeAccess.ts';
import { categoryPairs } from './categoryPairs.ts';
import type { LayerPairInput, SubspacesResult, WorkHeartbeat } from './types.ts';

export const SUBSPACES_FILE = 'subspaces.json';

/** Progress unit: each category is paired (all in one compute job), then scored. */
const CATEGORY_STEPS = 'category steps (pair, then score)';

export function subspacesSpec(input: LayerPairInput, pairId: string) {
  return {
    stage: 'subspace',
    codeVersion: codeVersionFor('subspace'),
    params: {
      compat: input.compat,
      encode: input.pairing.encode,
      permutations: input.similarity.permutations,
      seed: input.similarity.seed,
      categories: sweepCategories(input.categories),
      minPairs: MIN_PAIRS,
    },
    inputs: [pairId, input.a.extractId, input.b.extractId, input.a.saeId, input.b.saeId],
  };
}

/** CategoryAnalysis as stored: NaN mean correlations become null (JSON). */
export type StoredCategory = Omit<CategoryAnalysis, 'meanCorr'> & { meanCorr: number | null };

export function subspacesActivity(store: ArtifactStore, scorer: () => Promise<PairedScorer>) {
  return (input: LayerPairInput, pairId: string): Promise<SubspacesResult> =>
    runActivity(async (progress) => {
      const spec = subspacesSpec(input, pairId);
      let alsoProduced = 0;
      // Its sessions' arenas are freed when it ends, not held under the stages after it.
      const { manifest, reused } = await produce(store, spec, async (writer) => {
        const { a, b, tokens, follows } = await loadLayerPair(store, input);
        const top = await readTop(store, pairId);
        const result = await analyseSubspaces({
          a: a.source,
          b: b.source,
          tokens,
          follows,
          decoderA: a.decoder,
          decoderB: b.decoder,
          scorer: await scorer(),
          categories: spec.params.categories,
          topA: top.a,
          topB: top.b,
          labelRule: top.rule,
          mode: input.compat,
          permutations: input.similarity.permutations,
          seed: input.similarity.seed,
          // Stored by the pairing's own pass where its categories were these; else paired here, on
          // one progress scale for both phases (every category paired, then each scored).
          pairCategories: async (categories, kind) => {
            const stored = await categoryPairs(store, input, categories, () =>
              runComputeJob<CategoryPairsJobArgs, CategoryPairs[]>(CATEGORY_PAIRS_JOB, 'categoryPairsJob', { a: a.paths, b: b.paths, encode: input.pairing.encode, kind, categories }, {
                onProgress: (p) => {
                  const { done, total } = p as CategoryPairsProgress;
                  progress.report({ unit: CATEGORY_STEPS, done, total: 2 * total } satisfies WorkHeartbeat);
                },
              }),
            );
            if (stored.produced) alsoProduced++;
            return stored.pairs;
          },
          onCategory: (done, total) => progress.report({ unit: CATEGORY_STEPS, done: total + done, total: 2 * total } satisfies WorkHeartbeat),
        });
        const stored: StoredCategory[] = result.map((c) => ({ ...c, meanCorr: Number.isFinite(c.meanCorr) ? c.meanCorr : null }));
        await writer.writeJson(SUBSPACES_FILE, stored);
        const scored = result.filter((c) => !('skipped' in c.svcca) || !('skipped' in c.rsa)).length;
        return { counts: { categories: result.length, scored, categoryPairingsComputed: alsoProduced } };
      }).finally(releaseArenaSessions);
      return { id: manifest.id, reused, alsoProduced, categories: manifest.counts.categories ?? 0, scored: manifest.counts.scored ?? 0 };
    });
}

export function readSubspaces(store: ArtifactStore, id: string): Promise<StoredCategory[]> {
  return readJsonArtifact<StoredCategory[]>(store, id, SUBSPACES_FILE);
}
