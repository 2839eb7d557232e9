// One model's side of a sweep: register its files as sources, tokenize the corpus once (special
// tokens as models.<side>.addSpecialTokens says), extract every requested layer in one chunked
// pass (resumable, heartbeating its cursor; special positions left out unless
// corpus.keepSpecialPositions), then SAE feature statistics per layer. Every stage reads a source
// from the path the config names, checked against the registered content.
//
// Changing this file under running sweeps: see docs/temporal.md → "Changing a workflow".
import { setHandler } from '@temporalio/workflow';
import type { ModelKey, ModelSources, StoredFit } from '../activities/types.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import type { SaeConvention } from '../pipelines/sae/layerSaes.ts';
import { sweepActivities } from './options.ts';
import { stageProgressQuery, type StageProgress } from './progress.ts';

export interface ModelPrepInput {
  /** The model's key in the sweep (`a`, `b`, …; `a~floor` for a control). */
  side: ModelKey;
  corpus: SweepConfig['corpus'];
  model: SweepConfig['models']['a'];
  chunkTokens: number;
  encode: SweepConfig['pairing']['encode'];
  /** Which SAE a layer gets: the one trained on its tensor, or the original code's offset. */
  convention: SaeConvention;
  configFile: string;
  /** Fail when an SAE fits its layer badly (FVU above the warning level). */
  strict: boolean;
  heartbeatTimeoutSeconds: number;
  /** The artifact standing in for the model file (the floor's random-init copy at `model.model`). */
  modelId?: string;
}

export interface ModelPrepOutcome {
  side: ModelKey;
  sources: ModelSources;
  tokensId: string;
  extractId: string;
  /** Chunks a retried extraction found already persisted (0 when it ran through). */
  resumedFromChunk: number;
  statsByLayer: Record<string, string>;
  /** Per layer, the SAE's fit on the corpus (FVU, L0, dead features). */
  fitByLayer: Record<string, StoredFit>;
  /** Poor fits: the SAE was probably trained on another tensor. */
  warnings: string[];
  reused: number;
  produced: number;
}

export async function modelPrepWorkflow(input: ModelPrepInput): Promise<ModelPrepOutcome> {
  const act = sweepActivities(input.heartbeatTimeoutSeconds);
  const progress: StageProgress = { stage: 'sources', stagesDone: 0, stagesTotal: 3 + input.model.layers.length, reused: 0, produced: 0, finished: [] };
  setHandler(stageProgressQuery, () => progress);
  const tally = (reused: boolean, activity: string) => {
    if (reused) progress.reused++;
    else progress.produced++;
    progress.stagesDone++;
    progress.finished!.push(activity);
  };

  const sources = await act.registerSources({ side: input.side, corpus: input.corpus, model: input.model, convention: input.convention, configFile: input.configFile, ...(input.modelId !== undefined ? { modelId: input.modelId } : {}) });
  progress.reused += sources.reused;
  progress.produced += sources.registered;
  progress.stagesDone++;
  progress.finished!.push('registerSources');

  progress.stage = 'tokenize';
  const tokens = await act.tokenize({
    corpusId: sources.corpus,
    tokenizerId: sources.tokenizer,
    tokenizerPath: input.model.tokenizer,
    corpus: input.corpus,
    ...(input.model.addSpecialTokens !== undefined ? { addSpecialTokens: input.model.addSpecialTokens } : {}),
  });
  tally(tokens.reused, 'tokenize');

  progress.stage = 'extract';
  const extract = await act.extract({
    modelId: sources.model,
    modelPath: input.model.model,
    tokenizerId: sources.tokenizer,
    tokenizerPath: input.model.tokenizer,
    tokensId: tokens.id,
    layers: input.model.layers,
    preset: input.model.preset,
    ...(input.model.pattern !== undefined ? { pattern: input.model.pattern } : {}),
    batchSize: input.corpus.batchSize,
    maxLength: input.corpus.maxLength,
    chunkTokens: input.chunkTokens,
    keepSpecialPositions: input.corpus.keepSpecialPositions,
  });
  tally(extract.reused, 'extract');

  progress.stage = 'featureStats';
  const stats = await Promise.all(
    input.model.layers.map(async (layer) => {
      const r = await act.featureStats({
        extractId: extract.id,
        saeId: sources.saeByLayer[String(layer)]!,
        saePath: sources.saePathByLayer[String(layer)]!,
        modelId: sources.model,
        modelPath: input.model.model,
        model: input.model.name,
        layer,
        mode: input.encode,
        strict: input.strict,
      });
      tally(r.reused, `featureStats:${layer}`);
      return { layer: String(layer), r };
    }),
  );
  progress.stage = 'done';
  return {
    side: input.side,
    sources,
    tokensId: tokens.id,
    extractId: extract.id,
    resumedFromChunk: extract.resumedFromChunk,
    statsByLayer: Object.fromEntries(stats.map((s) => [s.layer, s.r.id])),
    fitByLayer: Object.fromEntries(stats.map((s) => [s.layer, s.r.fit])),
    warnings: stats.flatMap((s) => (s.r.warning ? [s.r.warning] : [])),
    reused: progress.reused,
    produced: progress.produced,
  };
}
