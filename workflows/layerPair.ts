// One layer pair: pair + filter + labels (gpu) → full-space similarity with nulls (then, opt-in,
// its bootstrap) and semantic subspaces (cpu, in parallel), and opt-in the selection-aware null
// (one gpu pairing per document shift, then its scoring), cross-model retrieval (cpu) and pairing
// stability (gpu) alongside → the feature-map page (cpu). Returns artifact ids only.
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
  const progress: StageProgress = { stage: 'pair', stagesDone: 0, stagesTotal: 4 + Number(withRetrieval) + Number(withStability), reused: 0, produced: 0, finished: [] };
  setHandler(stageProgressQuery, () => progress);
  const tally = (reused: boolean, activity: string, alsoProduced = 0) => {
    if (reused) progress.reused++;
    else progress.produced++;
    progress.produced += alsoProduced;
    progress.stagesDone++;
    progress.finished!.push(activity);
  };

  const pair = await act.pairLayer(input);
  tally(pair.reused, 'pairLayer', pair.alsoProduced);
  progress.stage = 'similarity+subspaces';
  // The selection-aware null (opt-in): one pairing per document shift, one after the other (each
  // holds a pairing's memory on its gpu worker), then their scoring; next to the other analyses.
  // Behind a patch: a run that started before it issues exactly the commands it recorded.
  const nulls = input.similarity.null ?? ['rows'];
  const shifts = input.similarity.selectionShifts ?? 0;
  const withSelection = nulls.includes('selection') && patched('selection-null');
  if (withSelection) progress.stagesTotal += shifts + 1;
  const selection = async () => {
    const done = [];
    for (let s = 1; s <= shifts; s++) {
      const r = await act.pairShift(input, s);
      tally(r.reused, 'pairShift');
      done.push(r);
    }
    const r = await act.scoreSelectionNull(input, pair.id, done);
    tally(r.reused, 'scoreSelectionNull');
    return r;
  };
  // The layer correspondence's bootstrap (opt-in: similarity.bootstrap), after the scores it reads.
  const withBootstrap = input.similarity.bootstrap !== undefined && patched('layer-correspondence');
  if (withBootstrap) progress.stagesTotal++;
  let bootstrapId: string | undefined;
  const [scores, subspaces, selected, retrieval, stability] = await Promise.all([
    act.scoreLayerPair(input, pair.id).then(async (r) => {
      tally(r.reused, 'scoreLayerPair');
      if (withBootstrap) {
        const b = await act.bootstrapLayerPair(input, pair.id, r.id);
        tally(b.reused, 'bootstrapLayerPair');
        bootstrapId = b.id;
      }
      return r;
    }),
    act.analyseSubspaces(input, pair.id).then((r) => (tally(r.reused, 'analyseSubspaces', r.alsoProduced), r)),
    withSelection ? selection() : Promise.resolve(undefined),
    withRetrieval ? act.retrieveLayerPair(input, pair.id).then((r) => (tally(r.reused, 'retrieveLayerPair'), r)) : undefined,
    withStability ? act.pairingStability(input).then((r) => (tally(r.reused, 'pairingStability'), r)) : undefined,
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
    ...(selected ? { selectionId: selected.id } : {}),
    ...(bootstrapId ? { bootstrapId } : {}),
    ...(retrieval ? { retrievalId: retrieval.id } : {}),
    ...(stability ? { stabilityId: stability.id } : {}),
    reused: progress.reused,
    produced: progress.produced,
  };
}
