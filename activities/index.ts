// The activities a worker serves, bound to one artifact store. Workflows proxy them by task
// queue: GPU_ACTIVITIES on `gpu` (model forward passes, SAE encoding, pairing), the rest on `cpu`.
import type { PairedScorer } from '../pipelines/pair/pairedScores.ts';
import { pairedScorer } from '../pipelines/similarity/index.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { extractActivity, featureStatsActivity } from './extract.ts';
import { featureMapActivity } from './featureMap.ts';
import { finishedPairsActivity } from './finishedPairs.ts';
import { pairActivity } from './pair.ts';
import { registerSourcesActivity, tokenizeActivity, validateSweepActivity } from './prepare.ts';
import { randomInitActivity } from './randomInit.ts';
import { reportActivity } from './report.ts';
import { resultsActivity } from './results.ts';
import { retrievalActivity } from './retrieval.ts';
import { stabilityActivity } from './stability.ts';
import { scoresActivity } from './scores.ts';
import { bootstrapActivity } from './bootstrap.ts';
import { correspondenceActivity } from './correspondence.ts';
import { pairShiftActivity, selectionNullActivity } from './selection.ts';
import { subspacesActivity } from './subspaces.ts';

export interface ActivityOptions {
  store: ArtifactStore;
  /** SVCCA/RSA with nulls for the semantic subspaces; default: the similarity stage's pairedScorer. */
  scorer?: PairedScorer;
}

export function createActivities(opts: ActivityOptions) {
  const { store } = opts;
  const chosen = opts.scorer ?? pairedScorer;
  const scorer = () => Promise.resolve(chosen);
  return {
    validateSweep: validateSweepActivity(),
    registerSources: registerSourcesActivity(store),
    tokenize: tokenizeActivity(store),
    findFinishedPairs: finishedPairsActivity(store),
    randomInitModel: randomInitActivity(store),
    extract: extractActivity(store),
    featureStats: featureStatsActivity(store),
    pairLayer: pairActivity(store),
    scoreLayerPair: scoresActivity(store),
    pairShift: pairShiftActivity(store),
    scoreSelectionNull: selectionNullActivity(store),
    bootstrapLayerPair: bootstrapActivity(store),
    layerCorrespondence: correspondenceActivity(store),
    analyseSubspaces: subspacesActivity(store, scorer),
    renderFeatureMap: featureMapActivity(store),
    retrieveLayerPair: retrievalActivity(store),
    pairingStability: stabilityActivity(store),
    writeResults: resultsActivity(store),
    writeReport: reportActivity(store),
  };
}

export type Activities = ReturnType<typeof createActivities>;

export const GPU_ACTIVITIES = ['extract', 'featureStats', 'pairLayer', 'pairShift', 'pairingStability'] as const satisfies readonly (keyof Activities)[];
