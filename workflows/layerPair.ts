// One layer pair: pair + filter + labels (gpu) → full-space similarity with nulls and semantic
// subspaces (cpu, in parallel) → the feature-map page (cpu). Returns artifact ids only.
//
// Changing this file under running sweeps: see docs/temporal.md → "Changing a workflow".
import { setHandler } from '@temporalio/workflow';
import type { LayerPairInput, LayerPairOutcome } from '../activities/types.ts';
import { sweepActivities } from './options.ts';
import { stageProgressQuery, type StageProgress } from './progress.ts';

export async function layerPairWorkflow(input: LayerPairInput): Promise<LayerPairOutcome> {
  const act = sweepActivities(input.heartbeatTimeoutSeconds);
  const progress: StageProgress = { stage: 'pair', stagesDone: 0, stagesTotal: 4, reused: 0, produced: 0, finished: [] };
  setHandler(stageProgressQuery, () => progress);
  const tally = (reused: boolean, activity: string) => {
    if (reused) progress.reused++;
    else progress.produced++;
    progress.stagesDone++;
    progress.finished!.push(activity);
  };

  const pair = await act.pairLayer(input);
  tally(pair.reused, 'pairLayer');
  progress.stage = 'similarity+subspaces';
  const [scores, subspaces] = await Promise.all([
    act.scoreLayerPair(input, pair.id).then((r) => (tally(r.reused, 'scoreLayerPair'), r)),
    act.analyseSubspaces(input, pair.id).then((r) => (tally(r.reused, 'analyseSubspaces'), r)),
  ]);
  progress.stage = 'featureMap';
  const map = await act.renderFeatureMap(input, { pairId: pair.id, scoresId: scores.id, subspacesId: subspaces.id });
  tally(map.reused, 'renderFeatureMap');
  progress.stage = 'done';
  return {
    layerA: input.a.layer,
    layerB: input.b.layer,
    pairId: pair.id,
    scoresId: scores.id,
    subspacesId: subspaces.id,
    mapId: map.id,
    reused: progress.reused,
    produced: progress.produced,
  };
}
