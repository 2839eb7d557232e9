// Cross-model retrieval of one layer pair (cpu queue): maps from A's decoder space to B's fitted
// on a seeded training split of the kept pairs, held-out partners ranked among B's whole
// dictionary, against shuffled training pairs (pipelines/retrieval). Runs as a compute job.
import { runComputeJob } from '../pipelines/kernels/session.ts';
import { RETRIEVAL_JOB, type RetrievalJobArgs } from '../pipelines/retrieval/retrievalJob.ts';
import { MIN_RETRIEVAL_PAIRS, RETRIEVAL_STATS, type RetrievalResult } from '../pipelines/retrieval/retrieval.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { readKeptPairs } from './layerData.ts';
import { produce, readJsonArtifact, sourceAt } from './storeAccess.ts';
import type { LayerPairInput, RetrievalActivityResult } from './types.ts';

export const RETRIEVAL_FILE = 'retrieval.json';

/** The results-table metric of one map and statistic, e.g. `retrieval-procrustes-top1`. */
export function retrievalMetric(map: string, stat: string): string {
  return `retrieval-${map}-${stat}`;
}

export function retrievalSpec(input: LayerPairInput & { retrieval: NonNullable<SweepConfig['retrieval']> }, pairId: string) {
  const { enabled: _enabled, ...params } = input.retrieval;
  return {
    stage: 'retrieval',
    codeVersion: codeVersionFor('retrieval'),
    params: { ...params, minPairs: MIN_RETRIEVAL_PAIRS },
    inputs: [pairId, input.a.saeId, input.b.saeId],
  };
}

export function readRetrieval(store: ArtifactStore, id: string): Promise<RetrievalResult> {
  return readJsonArtifact<RetrievalResult>(store, id, RETRIEVAL_FILE);
}

export function retrievalActivity(store: ArtifactStore) {
  return (input: LayerPairInput, pairId: string): Promise<RetrievalActivityResult> =>
    runActivity(async (progress) => {
      if (!input.retrieval) throw new Error('retrieval was not configured for this layer pair');
      const spec = retrievalSpec({ ...input, retrieval: input.retrieval }, pairId);
      const { manifest, reused } = await produce(store, spec, async (writer) => {
        const pairs = await readKeptPairs(store, pairId);
        const { enabled: _enabled, ...options } = input.retrieval!;
        const args: RetrievalJobArgs = {
          saePathA: await sourceAt(store, input.a.saeId, input.a.saePath),
          saePathB: await sourceAt(store, input.b.saeId, input.b.saePath),
          pairsA: pairs.a,
          pairsB: pairs.b,
          options,
        };
        progress.report({ pairs: pairs.a.length, shuffles: options.shuffles });
        const result = await runComputeJob<RetrievalJobArgs, RetrievalResult>(RETRIEVAL_JOB, 'retrievalJob', args);
        await writer.writeJson(RETRIEVAL_FILE, result);
        const counts: Record<string, number> = { pairs: pairs.a.length };
        if (!('skipped' in result)) Object.assign(counts, { train: result.nTrain, test: result.nTest, dictionary: result.dictionary });
        return { counts };
      });
      const r = await readRetrieval(store, manifest.id);
      if ('skipped' in r) return { id: manifest.id, reused, skipped: r.skipped, maps: {} };
      const maps = Object.fromEntries(r.maps.map((m) => [m.map, Object.fromEntries(RETRIEVAL_STATS.map((s) => [s, { observed: m.scores[s].observed, p: m.scores[s].p }]))]));
      return { id: manifest.id, reused, maps };
    });
}
