// A cross-layer sweep: validate → one modelPrep child per model → one layerPair child per
// (model pair, layer A, layer B) with bounded concurrency → (opt-in) layer correspondence → results
// table → report. Every pair of
// the sweep's models is compared (workflows/modelPairs.ts), each model prepared once; a two-model
// sweep (`a`, `b`, no controls) issues exactly the commands it did before N models. Controls add a
// model each: the ceiling (a model through another SAE) and the floor (a random-init copy of a
// model, made by the randomInitModel activity once the source model is prepared). Large grids continue as
// new every `pairsPerRun` pairs, carrying the finished pairs as artifact ids, so no run's history
// grows large. Cancelling the sweep cancels its children and, through heartbeats, their activities.
//
// A layer pair that fails (bad input found at use, a retry budget spent) does not stop the others:
// the sweep runs every pair it can, writes the results and the report for those, and completes
// with the failed pairs listed in its outcome (a partial sweep). `ufg sweep resume` starts a new
// run that takes the finished pairs over (when their inputs and code are unchanged) and runs only
// the rest. A model-prep failure fails the sweep: no pair can run without both models.
//
// Changing this file under running sweeps: see docs/temporal.md → "Changing a workflow".
import {
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  executeChild,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  FailedLayerPair,
  FinishedPairCandidate,
  KeyedModelPairGrid,
  LayerPairInput,
  LayerPairOutcome,
  ModelKey,
  ModelPairKeys,
  PairSide,
  SideSaes,
} from '../activities/types.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import type { SweepWorkEstimate } from '../pipelines/work/weights.ts';
import { failureSummary, rethrowSurfacingUserInput, rootApplicationFailure } from './failures.ts';
import { layerPairWorkflow } from './layerPair.ts';
import { modelPairs, isTwoModelSweep, sweepModels, type ModelPair, type SweepModel } from './modelPairs.ts';
import { modelPrepWorkflow, type ModelPrepOutcome } from './modelPrep.ts';
import { sweepActivities } from './options.ts';
import { sweepProgressQuery, type PairProgress, type SweepProgress } from './progress.ts';

/** A layer pair that failed: its workflow (`ufg sweep status`, the Web UI) and why. */
export interface FailedPair extends FailedLayerPair {
  workflowId: string;
}

export interface SweepCarry {
  run: number;
  plan?: string;
  warnings: string[];
  /** Per model key (`a`, `b` in a two-model sweep). */
  prep: Record<ModelKey, ModelPrepOutcome>;
  done: LayerPairOutcome[];
  failed: FailedPair[];
  reused: number;
  produced: number;
  ran: number;
  carriedOver: number;
  /** Validation's work estimate, for the progress bar (absent when carried by older code). */
  work?: SweepWorkEstimate;
}

export interface SweepInput {
  config: SweepConfig;
  /** Set by continue-as-new: what earlier runs of this sweep finished. */
  carried?: SweepCarry;
  /**
   * Set by `ufg sweep resume`: the layer pairs an earlier run of this sweep finished. Those whose
   * artifacts today's inputs and code still give are taken over without running again.
   */
  resumeFrom?: LayerPairOutcome[];
}

export interface SweepOutcome {
  sweepId: string;
  resultsId: string;
  reportId: string;
  resultsPath: string;
  reportPath: string;
  mapPaths: string[];
  /** Layer pairs finished: the ones in the results table and the report. */
  layerPairs: number;
  /** Layer pairs that failed, with why; the sweep is partial when this is not empty. */
  failed: FailedPair[];
  /** The finished layer pairs' artifacts (what `ufg sweep resume` hands the next run). */
  pairs: LayerPairOutcome[];
  /** Layer-pair workflows this sweep ran (after a resume: the pairs it retried or had left). */
  ran: number;
  /** Finished pairs taken over from the run before a resume, without running them again. */
  carriedOver: number;
  /** Artifacts found complete (not recomputed) and artifacts computed, over the whole sweep. */
  reused: number;
  produced: number;
  /** Per model: extraction chunks a retried attempt found persisted (0 when it ran through). */
  resumedFromChunk: Record<ModelKey, number>;
  runs: number;
  /** SAE mappings and fits to look at (see SweepProgress.warnings). */
  warnings: string[];
}

export function prepWorkflowId(sweepId: string, model: ModelKey): string {
  return `${sweepId}.prep-${model}`;
}

/** A two-model sweep's pairs keep their ids (`pair-A1-B2`); an N-model sweep's name both models. */
export function pairWorkflowId(sweepId: string, layerA: number, layerB: number, models?: ModelPairKeys): string {
  return models ? `${sweepId}.pair-${models.a}@${layerA}-${models.b}@${layerB}` : `${sweepId}.pair-A${layerA}-B${layerB}`;
}

/** The random-init copy of the floor's source model: made once the source model is prepared. */
export function floorModelNote(model: string, artifact: string): string {
  return `controls.floor: ${model} is a random-init copy (artifact ${artifact}) of its source model, read through the source model's SAEs: their fit is poor by design`;
}

/** Candidates per findFinishedPairs call: each carries a LayerPairInput, so payloads stay small. */
const TAKE_OVER_BATCH = 50;

/**
 * Runs `fn` over `items`, at most `limit` at once, in order. `fn` handles its item's failure
 * itself; what it throws (the sweep's cancellation) stops the lanes.
 */
async function boundedAll<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function pairSide(model: SweepModel, prep: ModelPrepOutcome, layer: number): PairSide {
  return {
    model: model.config.name,
    layer,
    extractId: prep.extractId,
    saeId: prep.sources.saeByLayer[String(layer)]!,
    saePath: prep.sources.saePathByLayer[String(layer)]!,
    statsId: prep.statsByLayer[String(layer)]!,
    tokenizerId: prep.sources.tokenizer,
    tokenizerPath: model.config.tokenizer,
  };
}

/** One cell of the sweep's grid: a model pair and a layer of each. */
interface GridCell {
  pair: ModelPair;
  layerA: number;
  layerB: number;
}

function layerPairInput(
  config: SweepConfig,
  sweepId: string,
  models: ReadonlyMap<ModelKey, SweepModel>,
  prep: Record<ModelKey, ModelPrepOutcome>,
  { pair, layerA, layerB }: GridCell,
): LayerPairInput {
  return {
    sweepId,
    a: pairSide(models.get(pair.a)!, prep[pair.a]!, layerA),
    b: pairSide(models.get(pair.b)!, prep[pair.b]!, layerB),
    compat: config.compat,
    pairing: config.pairing,
    similarity: config.similarity,
    // Absent from configs of runs started before they existed.
    ...(config.retrieval ? { retrieval: config.retrieval } : {}),
    ...(config.stability ? { stability: config.stability } : {}),
    ...(config.categories !== undefined ? { categories: config.categories } : {}),
    maxMapPoints: config.maxMapPoints,
    heartbeatTimeoutSeconds: config.orchestration.heartbeatTimeoutSeconds,
  };
}

function sideSaes(prep: ModelPrepOutcome): SideSaes {
  return { statsByLayer: prep.statsByLayer, hookpoints: prep.sources.saeHookpoints };
}

/** A two-model sweep's outcomes carry no model keys: theirs are `a` and `b`. */
const AB: ModelPairKeys = { a: 'a', b: 'b' };
const keysOf = (o: { models?: ModelPairKeys }): ModelPairKeys => o.models ?? AB;
const pairKey = (models: ModelPairKeys, layerA: number, layerB: number) => `${models.a}|${models.b}|${layerA},${layerB}`;
const cellKey = (c: GridCell) => pairKey(c.pair, c.layerA, c.layerB);
const outcomeKey = (o: { models?: ModelPairKeys; layerA: number; layerB: number }) => pairKey(keysOf(o), o.layerA, o.layerB);

export async function sweepWorkflow(input: SweepInput): Promise<SweepOutcome> {
  const { config } = input;
  const sweepId = workflowInfo().workflowId;
  const hb = config.orchestration.heartbeatTimeoutSeconds;
  const act = sweepActivities(hb);
  // A two-model sweep runs as it always did: its outcomes and workflow ids carry no model keys.
  const twoModels = isTwoModelSweep(config);
  const models = sweepModels(config);
  const modelByKey = new Map(models.map((m) => [m.key, m]));
  const mpairs = modelPairs(config);
  const grid: GridCell[] = mpairs.flatMap((pair) =>
    modelByKey.get(pair.a)!.config.layers.flatMap((layerA) => modelByKey.get(pair.b)!.config.layers.map((layerB) => ({ pair, layerA, layerB }))),
  );
  // validate, one prep per model (and the floor's random-init copy): 3 in a two-model sweep.
  const setupStages = 1 + models.length + models.filter((m) => m.control === 'floor').length;
  const keysField = (pair: ModelPair) => (twoModels ? {} : { models: { a: pair.a, b: pair.b } });
  const carried = input.carried;
  const done = new Map<string, LayerPairOutcome>((carried?.done ?? []).map((o) => [outcomeKey(o), o]));
  const failed = new Map<string, FailedPair>((carried?.failed ?? []).map((f) => [outcomeKey(f), f]));
  let ran = carried?.ran ?? 0;
  let carriedOver = carried?.carriedOver ?? 0;

  const progress: SweepProgress = {
    sweepId,
    run: carried?.run ?? 0,
    stage: carried ? 'pairs' : 'validate',
    stagesDone: carried ? setupStages + done.size + failed.size : 0,
    stagesTotal: setupStages + grid.length + 2 + (twoModels && config.similarity.bootstrap !== undefined ? 1 : 0),
    prep: Object.fromEntries(models.map((m) => [m.key, { status: carried ? 'done' : 'pending', workflowId: prepWorkflowId(sweepId, m.key) }])),
    pairs: grid.map((c): PairProgress => {
      const f = failed.get(cellKey(c));
      return {
        ...keysField(c.pair),
        layerA: c.layerA,
        layerB: c.layerB,
        status: done.has(cellKey(c)) ? 'done' : f ? 'failed' : 'pending',
        workflowId: pairWorkflowId(sweepId, c.layerA, c.layerB, twoModels ? undefined : c.pair),
        ...(f ? { error: f.error } : {}),
      };
    }),
    reused: carried?.reused ?? 0,
    produced: carried?.produced ?? 0,
    running: [],
    ...(carried?.plan !== undefined ? { plan: carried.plan } : {}),
    warnings: carried?.warnings ?? [],
    ...(carried?.work ? { work: carried.work } : {}),
  };
  setHandler(sweepProgressQuery, () => progress);
  const tally = (reused: boolean) => {
    if (reused) progress.reused++;
    else progress.produced++;
    progress.stagesDone++;
  };
  const markRunning = (id: string, on: boolean) => {
    progress.running = on ? [...progress.running, id] : progress.running.filter((x) => x !== id);
  };
  const entryOf = (key: string) => progress.pairs.find((p) => outcomeKey(p) === key)!;

  try {
    let prep: Record<ModelKey, ModelPrepOutcome>;
    if (carried) {
      prep = carried.prep;
    } else {
      const validated = await act.validateSweep(config);
      progress.plan = validated.plan;
      progress.warnings.push(...validated.warnings);
      if (validated.work) progress.work = validated.work;
      progress.stagesDone++;
      progress.stage = 'prepare';
      const prepOne = async (m: SweepModel, floor?: { modelId: string; path: string }): Promise<ModelPrepOutcome> => {
        const side = m.key;
        const workflowId = prepWorkflowId(sweepId, side);
        progress.prep[side]!.status = 'running';
        markRunning(workflowId, true);
        try {
          const out = await executeChild(modelPrepWorkflow, {
            workflowId,
            args: [
              {
                side,
                corpus: config.corpus,
                model: floor ? { ...m.config, model: floor.path } : m.config,
                chunkTokens: config.chunkTokens,
                encode: config.pairing.encode,
                convention: config.compat === 'reference' ? 'reference' : 'trained-tensor',
                configFile: config.source ?? 'sweep config',
                // The floor fits its SAEs badly by design: `strict` is about the models compared, not it.
                strict: config.strict && !floor,
                heartbeatTimeoutSeconds: hb,
                ...(floor ? { modelId: floor.modelId } : {}),
              },
            ],
          });
          progress.prep[side]!.status = 'done';
          progress.warnings.push(...out.warnings);
          progress.reused += out.reused;
          progress.produced += out.produced;
          progress.stagesDone++;
          return out;
        } catch (e) {
          progress.prep[side]!.status = isCancellation(e) ? 'cancelled' : 'failed';
          throw e;
        } finally {
          markRunning(workflowId, false);
        }
      };
      let prepared: ModelPrepOutcome[];
      if (twoModels) {
        prepared = await Promise.all([prepOne(models[0]!), prepOne(models[1]!)]);
      } else {
        // Only N-model sweeps (or sweeps with controls, which older code refused) take this path.
        if (!patched('n-models')) throw new Error('unreachable: an N-model sweep replayed by code without N models');
        const started = new Map<ModelKey, Promise<ModelPrepOutcome>>();
        for (const m of models) {
          if (m.control !== 'floor') started.set(m.key, prepOne(m));
        }
        for (const m of models) {
          if (m.control !== 'floor') continue;
          // The floor needs its source model's registered file: its random-init copy follows that prep.
          started.set(
            m.key,
            started.get(m.of!)!.then(async (src) => {
              const copy = await act.randomInitModel({ modelId: src.sources.model, modelPath: modelByKey.get(m.of!)!.config.model, seed: m.randomInitSeed! });
              tally(copy.reused);
              progress.warnings.push(floorModelNote(m.config.name, copy.id));
              return prepOne(m, { modelId: copy.id, path: copy.path });
            }),
          );
        }
        prepared = await Promise.all(models.map((m) => started.get(m.key)!));
      }
      prep = Object.fromEntries(prepared.map((p, i) => [models[i]!.key, p]));

      // A resumed sweep takes over the pairs an earlier run finished, if they are still current.
      const cellByKey = new Map(grid.map((c) => [cellKey(c), c]));
      const candidates: FinishedPairCandidate[] = (input.resumeFrom ?? [])
        .filter((o) => cellByKey.has(outcomeKey(o)))
        .map((o) => ({ input: layerPairInput(config, sweepId, modelByKey, prep, cellByKey.get(outcomeKey(o))!), outcome: o }));
      for (let i = 0; i < candidates.length; i += TAKE_OVER_BATCH) {
        const batch = candidates.slice(i, i + TAKE_OVER_BATCH);
        for (const k of await act.findFinishedPairs(batch)) {
          const o = batch[k]!.outcome;
          done.set(outcomeKey(o), o);
          entryOf(outcomeKey(o)).status = 'done';
          carriedOver++;
          progress.reused += o.reused + o.produced;
          progress.stagesDone++;
        }
      }
    }

    progress.stage = 'pairs';
    const remaining = grid.filter((c) => !done.has(cellKey(c)) && !failed.has(cellKey(c)));
    const thisRun = remaining.slice(0, config.orchestration.pairsPerRun);
    await boundedAll(thisRun, config.orchestration.concurrency, async (cell) => {
      const { layerA, layerB } = cell;
      const key = cellKey(cell);
      const entry = entryOf(key);
      entry.status = 'running';
      markRunning(entry.workflowId, true);
      ran++;
      try {
        const out = await executeChild(layerPairWorkflow, { workflowId: entry.workflowId, args: [layerPairInput(config, sweepId, modelByKey, prep, cell)] });
        done.set(key, { ...keysField(cell.pair), ...out });
        entry.status = 'done';
        progress.reused += out.reused;
        progress.produced += out.produced;
      } catch (e) {
        if (isCancellation(e) && CancellationScope.current().consideredCancelled) {
          entry.status = 'cancelled';
          throw e; // the sweep is cancelled: stop every lane
        }
        // This pair is lost (its error is deterministic, or its retry budget is spent); the
        // others go on, and a resume runs it again.
        const error = failureSummary(e);
        failed.set(key, { ...keysField(cell.pair), layerA, layerB, workflowId: entry.workflowId, error });
        entry.status = 'failed';
        entry.error = error;
      } finally {
        progress.stagesDone++;
        markRunning(entry.workflowId, false);
      }
    });

    if (remaining.length > thisRun.length) {
      // History stays bounded: the next run starts fresh, carrying only artifact ids.
      await continueAsNew<typeof sweepWorkflow>({
        config,
        carried: {
          run: progress.run + 1,
          ...(progress.plan !== undefined ? { plan: progress.plan } : {}),
          warnings: progress.warnings,
          prep,
          done: [...done.values()],
          failed: [...failed.values()],
          reused: progress.reused,
          produced: progress.produced,
          ran,
          carriedOver,
          ...(progress.work ? { work: progress.work } : {}),
        },
      });
    }

    const pairs = grid.flatMap((c) => done.get(cellKey(c)) ?? []);
    const failedPairs = grid.flatMap((c) => failed.get(cellKey(c)) ?? []);
    const failedOf = (list: FailedPair[]) => list.map(({ layerA, layerB, error }) => ({ layerA, layerB, error }));
    const base = { sweepId, compat: config.compat, pairingMethod: config.pairing.method, warnings: progress.warnings };
    const gridOf = (pair: ModelPair) => {
      const [ma, mb] = [modelByKey.get(pair.a)!, modelByKey.get(pair.b)!];
      const inPair = (o: { models?: ModelPairKeys }) => keysOf(o).a === pair.a && keysOf(o).b === pair.b;
      return {
        modelA: ma.config.name,
        modelB: mb.config.name,
        layersA: ma.config.layers,
        layersB: mb.config.layers,
        saes: { a: sideSaes(prep[pair.a]!), b: sideSaes(prep[pair.b]!) },
        pairs: pairs.filter(inPair),
        failedHere: failedPairs.filter(inPair),
      };
    };
    let common;
    if (twoModels) {
      const { failedHere: _f, ...g } = gridOf(mpairs[0]!);
      common = { ...base, ...g };
    } else {
      const modelPairGrids: KeyedModelPairGrid[] = mpairs.map((pair) => {
        const { failedHere, ...g } = gridOf(pair);
        return { a: pair.a, b: pair.b, ...(pair.control ? { control: pair.control } : {}), ...g, ...(failedHere.length > 0 ? { failed: failedOf(failedHere) } : {}) };
      });
      common = { ...base, modelPairs: modelPairGrids };
    }
    // The layer correspondence (opt-in: similarity.bootstrap, two-model sweeps) over every finished
    // pair, before the results table and the report that show it. Behind a patch: older runs issue
    // what they recorded.
    let correspondenceId: string | undefined;
    if (twoModels && config.similarity.bootstrap !== undefined && patched('layer-correspondence')) {
      progress.stage = 'correspondence';
      const c = await act.layerCorrespondence({ pairs });
      tally(c.reused);
      correspondenceId = c.id;
    }
    progress.stage = 'results';
    const results = await act.writeResults({ ...common, ...(correspondenceId ? { correspondenceId } : {}) });
    tally(results.reused);
    progress.stage = 'report';
    const report = await act.writeReport({
      ...common,
      ...(correspondenceId ? { correspondenceId } : {}),
      ...(config.title ? { title: config.title } : {}),
      ...(twoModels && failedPairs.length > 0 ? { failed: failedOf(failedPairs) } : {}),
      resultsId: results.id,
      outDir: config.outDir,
    });
    tally(report.reused);
    progress.stage = 'done';
    return {
      sweepId,
      resultsId: results.id,
      reportId: report.id,
      resultsPath: report.resultsPath,
      reportPath: report.reportPath,
      mapPaths: report.mapPaths,
      layerPairs: pairs.length,
      failed: failedPairs,
      pairs,
      ran,
      carriedOver,
      reused: progress.reused,
      produced: progress.produced,
      resumedFromChunk: Object.fromEntries(models.map((m) => [m.key, prep[m.key]!.resumedFromChunk])),
      runs: progress.run + 1,
      warnings: progress.warnings,
    };
  } catch (e) {
    if (e instanceof ContinueAsNew) throw e;
    if (isCancellation(e)) {
      progress.stage = 'cancelled';
      throw e;
    }
    progress.stage = 'failed';
    progress.error = rootApplicationFailure(e)?.message ?? (e instanceof Error ? e.message : String(e));
    rethrowSurfacingUserInput(e);
  }
}
