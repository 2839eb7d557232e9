// Bootstrap of one layer pair's full-space scores (cpu queue): the kept pairs' decoder rows
// resampled with replacement `similarity.bootstrap` times, every metric scored on each resample,
// and turned into effects against that metric's row-permutation null (from the scores artifact).
// The layer correspondence (activities/correspondence.ts) builds its intervals from these.
import { bootstrapScores } from '../pipelines/similarity/bootstrap.ts';
import { effectSize } from '../pipelines/similarity/permutationNull.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import type { MeasureName } from '../pipelines/similarity/types.ts';
import { loadSae } from '../pipelines/sae/index.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { readKeptPairs, rowsOf } from './layerData.ts';
import { readScores } from './scores.ts';
import { produce, readJsonArtifact, sourceAt } from './storeAccess.ts';
import type { ArtifactRef, LayerPairInput } from './types.ts';

export const BOOTSTRAP_FILE = 'bootstrap.json';

export interface StoredBootstrap {
  n: number;
  resamples: number;
  /** Per scored metric: its effect and each resample's effect (null where the null has no spread). */
  metrics: { metric: MeasureName; largerIsMoreSimilar: boolean; effect: number | null; bootstrapEffects: (number | null)[] }[];
}

export function bootstrapSpec(input: LayerPairInput, pairId: string, scoresId: string) {
  return {
    stage: 'bootstrap',
    codeVersion: codeVersionFor('bootstrap'),
    params: { resamples: input.similarity.bootstrap ?? 0, seed: input.similarity.seed },
    inputs: [pairId, scoresId, input.a.saeId, input.b.saeId],
  };
}

export function bootstrapActivity(store: ArtifactStore) {
  return (input: LayerPairInput, pairId: string, scoresId: string): Promise<ArtifactRef> =>
    runActivity(async (progress) => {
      const { manifest, reused } = await produce(store, bootstrapSpec(input, pairId, scoresId), async (writer) => {
        const resamples = input.similarity.bootstrap ?? 0;
        const pairs = await readKeptPairs(store, pairId);
        const scores = await readScores(store, scoresId);
        const saeA = await loadSae(await sourceAt(store, input.a.saeId, input.a.saePath));
        const saeB = await loadSae(await sourceAt(store, input.b.saeId, input.b.saePath));
        const x = rowsOf({ data: saeA.wDec, rows: saeA.numFeatures, cols: saeA.dIn }, pairs.a);
        const y = rowsOf({ data: saeB.wDec, rows: saeB.numFeatures, cols: saeB.dIn }, pairs.b);
        const out: StoredBootstrap = { n: pairs.a.length, resamples, metrics: [] };
        for (const s of scores.scores) {
          if ('skipped' in s) continue;
          progress.report({ metric: s.metric });
          const boot = await bootstrapScores(MEASURES[s.measure], x, y, { resamples, seed: input.similarity.seed });
          out.metrics.push({ metric: s.metric, largerIsMoreSimilar: s.largerIsMoreSimilar, effect: s.effect, bootstrapEffects: Array.from(boot, (v) => effectSize(v, s.nullMean, s.nullSd)) });
          progress.checkCancelled();
        }
        await writer.writeJson(BOOTSTRAP_FILE, out);
        return { counts: { pairs: out.n, resamples, metrics: out.metrics.length } };
      });
      return { id: manifest.id, reused };
    });
}

export function readBootstrap(store: ArtifactStore, id: string): Promise<StoredBootstrap> {
  return readJsonArtifact<StoredBootstrap>(store, id, BOOTSTRAP_FILE);
}
