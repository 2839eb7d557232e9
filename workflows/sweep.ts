// A cross-layer sweep: validate → one modelPrep child per model → one layerPair child per
// (layer A, layer B) with bounded concurrency → results table → report. Large grids continue as
// new every `pairsPerRun` pairs, carrying the finished pairs as artifact ids, so no run's history
// grows large. Cancelling the sweep cancels its children and, through heartbeats, their activities.
import {
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  executeChild,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { LayerPairInput, LayerPairOutcome, PairSide, Side, SideSaes } from '../activities/types.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import { rethrowSurfacingUserInput, rootApplicationFailure } from './failures.ts';
import { layerPairWorkflow } from './layerPair.ts';
import { modelPrepWorkflow, type ModelPrepOutcome } from './modelPrep.ts';
import { cpuActivities } from './options.ts';
import { sweepProgressQuery, type PairProgress, type SweepProgress } from './progress.ts';

export interface SweepCarry {
  run: number;
  plan?: string;
  warnings: string[];
  prep: Record<Side, ModelPrepOutcome>;
  done: LayerPairOutcome[];
  reused: number;
  produced: number;
}

export interface SweepInput {
  config: SweepConfig;
  /** Set by continue-as-new: what earlier runs of this sweep finished. */
  carried?: SweepCarry;
}

export interface SweepOutcome {
  sweepId: string;
  resultsId: string;
  reportId: string;
  resultsPath: string;
  reportPath: string;
  mapPaths: string[];
  layerPairs: number;
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

/** Runs `fn` over `items`, at most `limit` at once; the first failure cancels the rest. */
async function boundedAll<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const scope = new CancellationScope();
  await scope.run(async () => {
    const lane = async () => {
      while (!failure && next < items.length) {
        const item = items[next++]!;
        try {
          await fn(item);
        } catch (error) {
          if (!failure) {
            failure = { error };
            scope.cancel();
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  });
  if (failure) throw failure.error;
}

function pairSide(config: SweepConfig, side: Side, prep: ModelPrepOutcome, layer: number): PairSide {
  return {
    model: config.models[side].name,
    layer,
    extractId: prep.extractId,
    saeId: prep.sources.saeByLayer[String(layer)]!,
    statsId: prep.statsByLayer[String(layer)]!,
    tokenizerId: prep.sources.tokenizer,
  };
}

function sideSaes(prep: ModelPrepOutcome): SideSaes {
  return { statsByLayer: prep.statsByLayer, hookpoints: prep.sources.saeHookpoints };
}

export async function sweepWorkflow(input: SweepInput): Promise<SweepOutcome> {
  const { config } = input;
  const sweepId = workflowInfo().workflowId;
  const hb = config.orchestration.heartbeatTimeoutSeconds;
  const cpu = cpuActivities(hb);
  const grid = config.models.a.layers.flatMap((layerA) => config.models.b.layers.map((layerB) => ({ layerA, layerB })));
  const carried = input.carried;
  const done = new Map<string, LayerPairOutcome>((carried?.done ?? []).map((o) => [`${o.layerA},${o.layerB}`, o]));

  const progress: SweepProgress = {
    sweepId,
    run: carried?.run ?? 0,
    stage: carried ? 'pairs' : 'validate',
    stagesDone: carried ? 3 + done.size : 0,
    stagesTotal: 3 + grid.length + 2,
    prep: {
      a: { status: carried ? 'done' : 'pending', workflowId: prepWorkflowId(sweepId, 'a') },
      b: { status: carried ? 'done' : 'pending', workflowId: prepWorkflowId(sweepId, 'b') },
    },
    pairs: grid.map(({ layerA, layerB }): PairProgress => ({
      layerA,
      layerB,
      status: done.has(`${layerA},${layerB}`) ? 'done' : 'pending',
      workflowId: pairWorkflowId(sweepId, layerA, layerB),
    })),
    reused: carried?.reused ?? 0,
    produced: carried?.produced ?? 0,
    running: [],
    ...(carried?.plan !== undefined ? { plan: carried.plan } : {}),
    warnings: carried?.warnings ?? [],
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

  try {
    let prep: Record<Side, ModelPrepOutcome>;
    if (carried) {
      prep = carried.prep;
    } else {
      const validated = await cpu.validateSweep(config);
      progress.plan = validated.plan;
      progress.warnings.push(...validated.warnings);
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
    }

    progress.stage = 'pairs';
    const remaining = grid.filter(({ layerA, layerB }) => !done.has(`${layerA},${layerB}`));
    const thisRun = remaining.slice(0, config.orchestration.pairsPerRun);
    await boundedAll(thisRun, config.orchestration.concurrency, async ({ layerA, layerB }) => {
      const entry = progress.pairs.find((p) => p.layerA === layerA && p.layerB === layerB)!;
      const pairInput: LayerPairInput = {
        sweepId,
        a: pairSide(config, 'a', prep.a, layerA),
        b: pairSide(config, 'b', prep.b, layerB),
        compat: config.compat,
        pairing: config.pairing,
        similarity: config.similarity,
        ...(config.categories !== undefined ? { categories: config.categories } : {}),
        maxMapPoints: config.maxMapPoints,
        heartbeatTimeoutSeconds: hb,
      };
      entry.status = 'running';
      markRunning(entry.workflowId, true);
      try {
        const out = await executeChild(layerPairWorkflow, { workflowId: entry.workflowId, args: [pairInput] });
        done.set(`${layerA},${layerB}`, out);
        entry.status = 'done';
        progress.reused += out.reused;
        progress.produced += out.produced;
        progress.stagesDone++;
      } catch (e) {
        entry.status = isCancellation(e) ? 'cancelled' : 'failed';
        throw e;
      } finally {
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
          reused: progress.reused,
          produced: progress.produced,
        },
      });
    }

    const pairs = grid.map(({ layerA, layerB }) => done.get(`${layerA},${layerB}`)!);
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
    progress.stage = 'results';
    const results = await cpu.writeResults(common);
    tally(results.reused);
    progress.stage = 'report';
    const report = await cpu.writeReport({ ...common, ...(config.title ? { title: config.title } : {}), resultsId: results.id, outDir: config.outDir });
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
