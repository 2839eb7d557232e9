// A cross-layer sweep: validate → one modelPrep child per model → one layerPair child per
// (layer A, layer B) with bounded concurrency → (opt-in) layer correspondence → results table →
// report. Large grids continue as new every `pairsPerRun` pairs, carrying the finished pairs as
// artifact ids, so no run's history grows large. Cancelling the sweep cancels its children and, through heartbeats, their activities.
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
import type { FailedLayerPair, FinishedPairCandidate, LayerPairInput, LayerPairOutcome, PairSide, Side, SideSaes } from '../activities/types.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import type { SweepWorkEstimate } from '../pipelines/work/weights.ts';
import { failureSummary, rethrowSurfacingUserInput, rootApplicationFailure } from './failures.ts';
import { layerPairWorkflow } from './layerPair.ts';
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
  prep: Record<Side, ModelPrepOutcome>;
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
  resumedFromChunk: Record<Side, number>;
  runs: number;
  /** SAE mappings and fits to look at (see SweepProgress.warnings). */
  warnings: string[];
}

export function prepWorkflowId(sweepId: string, side: Side): string {
  return `${sweepId}.prep-${side}`;
}

export function pairWorkflowId(sweepId: string, layerA: number, layerB: number): string {
  return `${sweepId}.pair-A${layerA}-B${layerB}`;
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

function pairSide(config: SweepConfig, side: Side, prep: ModelPrepOutcome, layer: number): PairSide {
  return {
    model: config.models[side].name,
    layer,
    extractId: prep.extractId,
    saeId: prep.sources.saeByLayer[String(layer)]!,
    saePath: prep.sources.saePathByLayer[String(layer)]!,
    statsId: prep.statsByLayer[String(layer)]!,
    tokenizerId: prep.sources.tokenizer,
    tokenizerPath: config.models[side].tokenizer,
  };
}

function layerPairInput(config: SweepConfig, sweepId: string, prep: Record<Side, ModelPrepOutcome>, layerA: number, layerB: number): LayerPairInput {
  return {
    sweepId,
    a: pairSide(config, 'a', prep.a, layerA),
    b: pairSide(config, 'b', prep.b, layerB),
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

const pairKey = (layerA: number, layerB: number) => `${layerA},${layerB}`;

export async function sweepWorkflow(input: SweepInput): Promise<SweepOutcome> {
  const { config } = input;
  const sweepId = workflowInfo().workflowId;
  const hb = config.orchestration.heartbeatTimeoutSeconds;
  const act = sweepActivities(hb);
  const grid = config.models.a.layers.flatMap((layerA) => config.models.b.layers.map((layerB) => ({ layerA, layerB })));
  const carried = input.carried;
  const done = new Map<string, LayerPairOutcome>((carried?.done ?? []).map((o) => [pairKey(o.layerA, o.layerB), o]));
  const failed = new Map<string, FailedPair>((carried?.failed ?? []).map((f) => [pairKey(f.layerA, f.layerB), f]));
  let ran = carried?.ran ?? 0;
  let carriedOver = carried?.carriedOver ?? 0;

  const progress: SweepProgress = {
    sweepId,
    run: carried?.run ?? 0,
    stage: carried ? 'pairs' : 'validate',
    stagesDone: carried ? 3 + done.size + failed.size : 0,
    stagesTotal: 3 + grid.length + 2 + (config.similarity.bootstrap !== undefined ? 1 : 0),
    prep: {
      a: { status: carried ? 'done' : 'pending', workflowId: prepWorkflowId(sweepId, 'a') },
      b: { status: carried ? 'done' : 'pending', workflowId: prepWorkflowId(sweepId, 'b') },
    },
    pairs: grid.map(({ layerA, layerB }): PairProgress => {
      const f = failed.get(pairKey(layerA, layerB));
      return {
        layerA,
        layerB,
        status: done.has(pairKey(layerA, layerB)) ? 'done' : f ? 'failed' : 'pending',
        workflowId: pairWorkflowId(sweepId, layerA, layerB),
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
  const entryOf = (layerA: number, layerB: number) => progress.pairs.find((p) => p.layerA === layerA && p.layerB === layerB)!;

  try {
    let prep: Record<Side, ModelPrepOutcome>;
    if (carried) {
      prep = carried.prep;
    } else {
      const validated = await act.validateSweep(config);
      progress.plan = validated.plan;
      progress.warnings.push(...validated.warnings);
      if (validated.work) progress.work = validated.work;
      progress.stagesDone++;
      progress.stage = 'prepare';
      const prepOne = async (side: Side): Promise<ModelPrepOutcome> => {
        const workflowId = prepWorkflowId(sweepId, side);
        progress.prep[side].status = 'running';
        markRunning(workflowId, true);
        try {
          const out = await executeChild(modelPrepWorkflow, {
            workflowId,
            args: [
              {
                side,
                corpus: config.corpus,
                model: config.models[side],
                chunkTokens: config.chunkTokens,
                encode: config.pairing.encode,
                convention: config.compat === 'reference' ? 'reference' : 'trained-tensor',
                configFile: config.source ?? 'sweep config',
                strict: config.strict,
                heartbeatTimeoutSeconds: hb,
              },
            ],
          });
          progress.prep[side].status = 'done';
          progress.warnings.push(...out.warnings);
          progress.reused += out.reused;
          progress.produced += out.produced;
          progress.stagesDone++;
          return out;
        } catch (e) {
          progress.prep[side].status = isCancellation(e) ? 'cancelled' : 'failed';
          throw e;
        } finally {
          markRunning(workflowId, false);
        }
      };
      const [a, b] = await Promise.all([prepOne('a'), prepOne('b')]);
      prep = { a, b };

      // A resumed sweep takes over the pairs an earlier run finished, if they are still current.
      const inGrid = new Set(grid.map(({ layerA, layerB }) => pairKey(layerA, layerB)));
      const candidates: FinishedPairCandidate[] = (input.resumeFrom ?? [])
        .filter((o) => inGrid.has(pairKey(o.layerA, o.layerB)))
        .map((o) => ({ input: layerPairInput(config, sweepId, prep, o.layerA, o.layerB), outcome: o }));
      for (let i = 0; i < candidates.length; i += TAKE_OVER_BATCH) {
        const batch = candidates.slice(i, i + TAKE_OVER_BATCH);
        for (const k of await act.findFinishedPairs(batch)) {
          const o = batch[k]!.outcome;
          done.set(pairKey(o.layerA, o.layerB), o);
          entryOf(o.layerA, o.layerB).status = 'done';
          carriedOver++;
          progress.reused += o.reused + o.produced;
          progress.stagesDone++;
        }
      }
    }

    progress.stage = 'pairs';
    const remaining = grid.filter(({ layerA, layerB }) => !done.has(pairKey(layerA, layerB)) && !failed.has(pairKey(layerA, layerB)));
    const thisRun = remaining.slice(0, config.orchestration.pairsPerRun);
    await boundedAll(thisRun, config.orchestration.concurrency, async ({ layerA, layerB }) => {
      const entry = entryOf(layerA, layerB);
      entry.status = 'running';
      markRunning(entry.workflowId, true);
      ran++;
      try {
        const out = await executeChild(layerPairWorkflow, { workflowId: entry.workflowId, args: [layerPairInput(config, sweepId, prep, layerA, layerB)] });
        done.set(pairKey(layerA, layerB), out);
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
        failed.set(pairKey(layerA, layerB), { layerA, layerB, workflowId: entry.workflowId, error });
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

    const pairs = grid.flatMap(({ layerA, layerB }) => done.get(pairKey(layerA, layerB)) ?? []);
    const failedPairs = grid.flatMap(({ layerA, layerB }) => failed.get(pairKey(layerA, layerB)) ?? []);
    const common = {
      sweepId,
      modelA: config.models.a.name,
      modelB: config.models.b.name,
      compat: config.compat,
      pairingMethod: config.pairing.method,
      layersA: config.models.a.layers,
      layersB: config.models.b.layers,
      saes: { a: sideSaes(prep.a), b: sideSaes(prep.b) },
      warnings: progress.warnings,
      pairs,
    };
    // The layer correspondence (opt-in: similarity.bootstrap) over every finished pair, before the
    // results table and the report that show it. Behind a patch: older runs issue what they recorded.
    let correspondenceId: string | undefined;
    if (config.similarity.bootstrap !== undefined && patched('layer-correspondence')) {
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
      ...(failedPairs.length > 0 ? { failed: failedPairs.map(({ layerA, layerB, error }) => ({ layerA, layerB, error })) } : {}),
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
      resumedFromChunk: { a: prep.a.resumedFromChunk, b: prep.b.resumedFromChunk },
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
