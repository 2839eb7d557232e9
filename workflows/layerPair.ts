// One layer pair: pair + filter + labels (gpu) → full-space similarity with nulls and semantic
// subspaces (cpu), with cross-model retrieval (cpu) and pairing stability (gpu) where the sweep
// asks for them, all in parallel → the feature-map page (cpu). Returns artifact ids only.
//
// Changing this file under running sweeps: see docs/temporal.md → "Changing a workflow".
import { patched, setHandler } from '@temporalio/workflow';
import type { LayerPairInput, LayerPairOutcome } from '../activities/types.ts';
import { sweepActivities } from './options.ts';
import { stageProgressQuery, type StageProgress } from './progress.ts';

export async function layerPairWorkflow(input: LayerPairInput): Promise<LayerPairOutcome> {
  const act = sweepActivities(input.heartbeatTimeoutSeconds);
  // Runs started before retrieval and stability existed replay the old path (docs/temporal.md).
  const measures = patched('retrieval-and-stability');
  const withRetrieval = measures && input.retrieval?.enabled === true;
  const withStability = measures && input.stability?.enabled === true;
  const progress: StageProgress = { stage: 'pair', stagesDone: 0, stagesTotal: 4 + Number(withRetrieval) + Number(withStability), reused: 0, produced: 0 };
  setHandler(stageProgressQuery, () => progress);
  const tally = (reused: boolean) => {
    if (reused) progress.reused++;
    else progress.produced++;
    progress.stagesDone++;
  };

  const pair = await act.pairLayer(input);
  tally(pair.reused);
  progress.stage = 'similarity+subspaces';
  const [scores, subspaces, retrieval, stability] = await Promise.all([
    act.scoreLayerPair(input, pair.id).then((r) => (tally(r.reused), r)),
    act.analyseSubspaces(input, pair.id).then((r) => (tally(r.reused), r)),
    withRetrieval ? act.retrieveLayerPair(input, pair.id).then((r) => (tally(r.reused), r)) : undefined,
    withStability ? act.pairingStability(input).then((r) => (tally(r.reused), r)) : undefined,
  ]);
  progress.stage = 'featureMap';
  const map = await act.renderFeatureMap(input, { pairId: pair.id, scoresId: scores.id, subspacesId: subspaces.id });
  tally(map.reused);
  progress.stage = 'done';
  return {
    layerA: input.a.layer,
    layerB: input.b.layer,
    pairId: pair.id,
    scoresId: scores.id,
    subspacesId: subspaces.id,
    mapId: map.id,
    ...(retrieval ? { retrievalId: retrieval.id } : {}),
    ...(stability ? { stabilityId: stability.id } : {}),
    reused: progress.reused,
    produced: progress.produced,
  };
}
