// Re-records the workflow histories that test/replay.test.ts replays against the current workflow
// code (docs/temporal.md → "Changing a workflow"): tiny real sweeps on the generated fixtures, run
// by a real dev server and a real worker on a fresh store, every run of every workflow saved as
// the JSON of `handle.fetchHistory()`:
//
//   continue-as-new/  2 layer pairs, one per run (continue-as-new), model-prep and layer-pair
//                     children, and a tokenize attempt that fails once with a retryable error
//   partial-resume/   one layer pair fails non-retryably (the sweep completes partial), then
//                     `resume`: the finished pair is taken over, only the failed one runs again
//   cancelled/        the sweep cancelled during extraction
//   n-models/         three models and both controls (the `n-models` patch): one prep per model,
//                     the floor's random-init copy, 5 model pairs two per run (continue-as-new)
//
//   node --import tsx test/histories/record.ts [scenario …]   (about two minutes; rewrites test/histories/<scenario>/, all by default)
//
// Failures are injected here, in this test-only worker, by wrapping the real activities: nothing
// of this is in a production code path.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sanitizeHistoryJson } from './sanitize.ts';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import protos from '@temporalio/proto'; // CommonJS: no named ESM exports
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities/index.ts';
import type { LayerPairInput } from '../../activities/types.ts';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { cancelSweep, resumeSweep, startSweep, sweepStatus, waitForSweep } from '../../cli/sweepClient.ts';
import { connectClient, connectWorker, startDevServer } from '../../cli/temporal/index.ts';
import { demoConfig, demoThreeModelConfig, type SweepConfig } from '../../pipelines/config.ts';
import { openStore } from '../../storage/store.ts';
import { workflowBundle } from '../../worker/bundle.ts';
import { CPU_QUEUE, GPU_QUEUE } from '../../workflows/index.ts';

export const HISTORIES_DIR = dirname(fileURLToPath(import.meta.url));

/** One recorded run: what the replay test needs (workflows read their own id). */
export interface RecordedHistory {
  workflowId: string;
  runId: string;
  workflowType: string;
  /**
   * The run's history as the proto's plain-object form (int64 as strings, enums by name, bytes in
   * base64), read back with `History.fromObject`. Not the SDK's historyToJSON: in this install
   * @temporalio/common and @temporalio/proto each carry their own protobufjs, and its proto3-JSON
   * conversion fails across the two ("type must be a Type").
   */
  history: Record<string, unknown>;
}

const History = protos.temporal.api.history.v1.History;
export const HISTORY_OBJECT_OPTIONS = { longs: String, enums: String, bytes: String } as const;

/** A recorded history as the History message the replay worker takes. */
export function historyOf(r: RecordedHistory): ReturnType<typeof History.fromObject> {
  return History.fromObject(r.history);
}

/** Test-only failure injection, switched per scenario. */
interface Faults {
  /** Activities whose first attempt fails with a retryable error. */
  failFirstAttempt: Set<keyof Activities>;
  /** Layer pairs whose pairing fails non-retryably. */
  failPair?: (input: LayerPairInput) => boolean;
}

function withFaults(activities: Activities, faults: Faults): Activities {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [keyof Activities, (...args: unknown[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: unknown[]) => {
      if (faults.failFirstAttempt.has(name) && Context.current().info.attempt === 1) {
        throw new Error(`injected by test/histories/record.ts: a transient failure of ${name}'s first attempt`);
      }
      if (name === 'pairLayer' && faults.failPair?.(args[0] as LayerPairInput)) {
        throw ApplicationFailure.nonRetryable('injected by test/histories/record.ts: this layer pair fails', 'UserInputError');
      }
      return fn(...args);
    };
  }
  return wrapped as Activities;
}

async function startWorkers(connection: NativeConnection, namespace: string, storeRoot: string, faults: Faults): Promise<() => Promise<void>> {
  const activities = withFaults(createActivities({ store: openStore(storeRoot) }), faults);
  const bundle = await workflowBundle();
  const workers = await Promise.all([
    Worker.create({ connection, namespace, taskQueue: CPU_QUEUE, activities, workflowBundle: bundle, maxConcurrentActivityTaskExecutions: 4, shutdownGraceTime: '2s' }),
    Worker.create({ connection, namespace, taskQueue: GPU_QUEUE, activities, maxConcurrentActivityTaskExecutions: 2, shutdownGraceTime: '2s' }),
  ]);
  const running = Promise.all(workers.map((w) => w.run()));
  return async () => {
    for (const w of workers) w.shutdown();
    await running;
  };
}

/**
 * Every run of the sweep `id` from `firstRunId` on (following continue-as-new), and every child
 * run they started (by the run id each start recorded), in the order they were started.
 */
async function collect(client: Client, workflowId: string, runId: string, out: RecordedHistory[] = []): Promise<RecordedHistory[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
  out.push({ workflowId, runId, workflowType: type, history: History.toObject(History.fromObject(history), HISTORY_OBJECT_OPTIONS) });
  for (const e of events) {
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (child?.workflowId && child.runId) await collect(client, child.workflowId, child.runId, out);
    const next = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (next) await collect(client, workflowId, next, out);
  }
  return out;
}

/** Writes a scenario's histories as `<dir>/<workflow>.<n>.json` (n: that workflow's nth run). */
/** This checkout's root as paths in the histories spell it (and node_modules' real folder, where it is a link). */
const CHECKOUT_ROOTS = [...new Set([join(HISTORIES_DIR, '..', '..'), realpathSync(join(HISTORIES_DIR, '..', '..')), dirname(realpathSync(join(HISTORIES_DIR, '..', '..', 'node_modules')))])];

function save(scenario: string, sweepId: string, runs: RecordedHistory[]): void {
  const dir = join(HISTORIES_DIR, scenario);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const seen = new Map<string, number>();
  for (const r of runs) {
    const short = r.workflowId === sweepId ? 'sweep' : r.workflowId.slice(sweepId.length + 1);
    const n = (seen.get(short) ?? 0) + 1;
    seen.set(short, n);
    writeFileSync(join(dir, `${short}.${n}.json`), sanitizeHistoryJson(JSON.stringify(r), CHECKOUT_ROOTS) + '\n');
  }
  console.error(`record: ${scenario}: ${runs.length} histories`);
}

/** Runs `fn` until it returns true or `ms` pass. */
async function until(what: string, fn: () => Promise<boolean>, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`record: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The demo sweep cut to A1 × (B1, B2) with few permutations; `seed` makes each scenario its own sweep. */
function tinyConfig(fixtures: string, outDir: string, seed: number, change: (c: SweepConfig) => void = () => {}): SweepConfig {
  const c = structuredClone(demoConfig(fixtures, outDir));
  c.title = 'ufg history recording';
  c.models.a.layers = [1];
  c.models.b.layers = [1, 2];
  c.similarity = { ...c.similarity, permutations: 20, seed };
  c.maxMapPoints = 50;
  change(c);
  return c;
}

async function main(only: string[]): Promise<void> {
  const wanted = (scenario: string) => only.length === 0 || only.includes(scenario);
  const fixtures = await ensureDemoFixtures();
  const dir = mkdtempSync(join(tmpdir(), 'ufg-record-'));
  const server = await startDevServer({ stateDir: join(dir, 'temporal'), headless: true });
  const opts = { address: server.address, namespace: server.namespace };
  const workerConnection = await connectWorker(opts);
  const { client, connection } = await connectClient(opts);
  const faults: Faults = { failFirstAttempt: new Set() };
  const stopWorkers = await startWorkers(workerConnection, opts.namespace, join(dir, 'store'), faults);
  try {
    if (wanted('continue-as-new')) {
      faults.failFirstAttempt = new Set(['tokenize']);
      const config = tinyConfig(fixtures, join(dir, 'out-can'), 1, (c) => (c.orchestration.pairsPerRun = 1));
      const started = await startSweep(client, config);
      await waitForSweep(client, started.workflowId);
      save('continue-as-new', started.workflowId, await collect(client, started.workflowId, started.runId!));
      faults.failFirstAttempt = new Set();
    }
    if (wanted('partial-resume')) {
      faults.failPair = (input) => input.b.layer === 2;
      const config = tinyConfig(fixtures, join(dir, 'out-partial'), 2);
      const started = await startSweep(client, config);
      const partial = await waitForSweep(client, started.workflowId);
      if (partial.failed.length !== 1) throw new Error(`record: expected one failed pair, got ${JSON.stringify(partial.failed)}`);
      delete faults.failPair;
      const runs = await collect(client, started.workflowId, started.runId!);
      const resumed = await resumeSweep(client, started.workflowId);
      const outcome = await waitForSweep(client, started.workflowId);
      if (outcome.carriedOver !== 1 || outcome.ran !== 1) throw new Error(`record: resume took over ${outcome.carriedOver} and ran ${outcome.ran}`);
      const resumedRunId = (await client.workflow.getHandle(started.workflowId).describe()).runId;
      save('partial-resume', started.workflowId, await collect(client, resumed.workflowId, resumedRunId, runs));
    }
    if (wanted('selection-null')) {
      // The selection-aware null (patch 'selection-null'): one pairShift per document shift, then scoreSelectionNull.
      const config = tinyConfig(fixtures, join(dir, 'out-selection'), 4, (c) => {
        c.models.b.layers = [2];
        c.similarity = { ...c.similarity, null: ['rows', 'selection'], selectionShifts: 2 };
      });
      const started = await startSweep(client, config);
      await waitForSweep(client, started.workflowId);
      save('selection-null', started.workflowId, await collect(client, started.workflowId, started.runId!));
    }
    if (wanted('layer-correspondence')) {
      // The layer correspondence (patch 'layer-correspondence'): bootstrapLayerPair per pair, then layerCorrespondence.
      const config = tinyConfig(fixtures, join(dir, 'out-correspondence'), 5, (c) => {
        c.similarity = { ...c.similarity, bootstrap: 20 };
      });
      const started = await startSweep(client, config);
      await waitForSweep(client, started.workflowId);
      save('layer-correspondence', started.workflowId, await collect(client, started.workflowId, started.runId!));
    }
    if (wanted('cancelled')) {
      // A new extraction (other chunking, the whole corpus), so there is a running activity to cancel.
      const config = tinyConfig(fixtures, join(dir, 'out-cancel'), 3, (c) => {
        c.corpus.numSamples = 0;
        c.chunkTokens = 32;
      });
      const started = await startSweep(client, config);
      await until('an extraction heartbeat', async () => (await sweepStatus(client, started.workflowId)).activities.some((a) => a.activity === 'extract' && a.heartbeat !== undefined));
      await cancelSweep(client, started.workflowId);
      await until('the sweep to close', async () => (await sweepStatus(client, started.workflowId)).status !== 'RUNNING');
      // The children close after the parent's cancellation reaches them.
      await new Promise((r) => setTimeout(r, 2000));
      save('cancelled', started.workflowId, await collect(client, started.workflowId, started.runId!));
    }
    if (wanted('n-models')) {
      const config = structuredClone(demoThreeModelConfig(fixtures, join(dir, 'out-n')));
      config.title = 'ufg history recording: three models and controls';
      for (const m of Object.values(config.models)) m.layers = [1];
      config.similarity = { ...config.similarity, permutations: 20, seed: 4 };
      config.maxMapPoints = 50;
      config.orchestration.pairsPerRun = 2;
      const started = await startSweep(client, config);
      const outcome = await waitForSweep(client, started.workflowId);
      if (outcome.layerPairs !== 5 || outcome.runs !== 3) throw new Error(`record: n-models ran ${outcome.layerPairs} pairs in ${outcome.runs} runs`);
      save('n-models', started.workflowId, await collect(client, started.workflowId, started.runId!));
    }
  } finally {
    await stopWorkers();
    await connection.close();
    await workerConnection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv.slice(2));
}
