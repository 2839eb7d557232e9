// Client side of sweeps: start (or attach to) a sweep, follow its progress, resume, cancel.
// The workflow id is derived from the config (sweepIdOf), so starting the same sweep twice
// attaches to the running one. Resuming a partial, failed or terminated sweep starts a new run of
// the same id that takes over the layer pairs the last run finished and runs only the rest; every
// other finished artifact is found by its content address.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  defaultPayloadConverter,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { sweepIdOf, type SweepConfig } from '../pipelines/config.ts';
import { UserInputError } from '../pipelines/errors.ts';
import { CPU_QUEUE, stageProgressQuery, sweepProgressQuery, sweepWorkflow, type SweepInput, type SweepOutcome, type SweepProgress } from '../workflows/index.ts';
import type { LayerPairOutcome } from '../activities/types.ts';
import { measureSweepWork, type SweepSnapshot, type WorkMeasure } from './sweepWork.ts';

export interface StartSweepOptions {
  /** Workflow task queue (default `cpu`, where `ufg worker` runs workflows). */
  taskQueue?: string;
}

export interface StartedSweep {
  workflowId: string;
  runId?: string;
  /** True when a run of this sweep was already going and we attached to it. */
  attached: boolean;
}

type SweepHandle = WorkflowHandle<typeof sweepWorkflow>;

function handleOf(client: Client, id: string): SweepHandle {
  return client.workflow.getHandle<typeof sweepWorkflow>(id);
}

async function startRun(client: Client, input: SweepInput, workflowId: string, opts: StartSweepOptions): Promise<StartedSweep> {
  try {
    const handle = await client.workflow.start(sweepWorkflow, {
      workflowId,
      taskQueue: opts.taskQueue ?? CPU_QUEUE,
      args: [input],
      // A running sweep with this id is never replaced (FAIL → we attach below); a closed one
      // (completed, failed, terminated) may be run again under the same id.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    return { workflowId, runId: handle.firstExecutionRunId, attached: false };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, attached: true };
    throw e;
  }
}

export function startSweep(client: Client, config: SweepConfig, opts: StartSweepOptions = {}): Promise<StartedSweep> {
  return startRun(client, { config }, sweepIdOf(config), opts);
}

export type SweepRunStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'CONTINUED_AS_NEW' | 'TIMED_OUT' | 'UNKNOWN' | 'UNSPECIFIED' | 'PAUSED';

export interface ActivityInFlight {
  workflowId: string;
  activity: string;
  attempt: number;
  state: string;
  /** Last heartbeat details: `{ unit, done, total }` (WorkHeartbeat) and the activity's own fields, e.g. the extraction's chunk. */
  heartbeat?: unknown;
  lastFailure?: string;
}

export interface SweepStatus {
  workflowId: string;
  runId: string;
  status: SweepRunStatus;
  progress?: SweepProgress;
  /** Weighted work done of a running sweep (cli/sweepWork.ts), as its progress bar shows it. */
  work?: WorkMeasure;
  activities: ActivityInFlight[];
  outcome?: SweepOutcome;
  error?: string;
}

/** Pending activities of one workflow, with their decoded heartbeat details. */
async function activitiesOf(client: Client, workflowId: string): Promise<ActivityInFlight[]> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return (d.raw.pendingActivities ?? []).map((a) => {
      const payload = a.heartbeatDetails?.payloads?.[0];
      return {
        workflowId,
        activity: a.activityType?.name ?? '?',
        attempt: a.attempt ?? 1,
        state: String(a.state ?? ''),
        ...(payload ? { heartbeat: defaultPayloadConverter.fromPayload(payload) } : {}),
        ...(a.lastFailure?.message ? { lastFailure: a.lastFailure.message } : {}),
      };
    });
  } catch {
    return []; // the child closed between the query and the describe
  }
}

/** The message a user should see for a failed sweep: the root application failure's. */
export function failureMessage(e: unknown): string {
  let cur: unknown = e;
  let best: string | undefined;
  for (let depth = 0; cur instanceof Error && depth < 20; depth++) {
    if (cur instanceof ApplicationFailure || (cur instanceof TemporalFailure && !(cur.cause instanceof Error))) best = cur.message;
    cur = (cur as { cause?: unknown }).cause;
  }
  return best ?? (e instanceof Error ? e.message : String(e));
}

export async function sweepStatus(client: Client, id: string): Promise<SweepStatus> {
  const handle = handleOf(client, id);
  let d;
  try {
    d = await handle.describe();
  } catch (e) {
    throw new UserInputError(`no sweep ${id} on this Temporal server (${(e as Error).message})`);
  }
  const status = d.status.name as SweepRunStatus;
  const out: SweepStatus = { workflowId: id, runId: d.runId, status, activities: [] };
  if (status === 'RUNNING') {
    try {
      out.progress = await handle.query(sweepProgressQuery);
    } catch {
      // no worker has picked the workflow up yet
    }
    out.activities.push(...(await activitiesOf(client, id)));
    if (out.progress) {
      const live = await liveSnapshot(client, out.progress);
      out.work = measureSweepWork(live);
      for (const child of Object.values(live.children)) out.activities.push(...child.activities);
    }
  } else if (status === 'COMPLETED') {
    out.outcome = await handle.result();
  } else {
    try {
      await handle.result();
    } catch (e) {
      out.error = failureMessage(e);
    }
  }
  return out;
}

/** The input the latest run of `id` was started with (from its history's first event). */
async function inputOfLatestRun(client: Client, id: string): Promise<SweepInput> {
  const history = await handleOf(client, id).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new UserInputError(`sweep ${id}: its history holds no start input; start it again with --config`);
  return defaultPayloadConverter.fromPayload<SweepInput>(payload);
}

/** The config the latest run of `id` was started with. */
export async function configOfSweep(client: Client, id: string): Promise<SweepConfig> {
  return (await inputOfLatestRun(client, id)).config;
}

/**
 * The layer pairs the latest run of `id` knew finished: a completed run's outcome (a partial sweep
 * lists its finished pairs there), else what its start input carried from earlier runs.
 */
async function finishedPairsOf(client: Client, id: string, status: string): Promise<LayerPairOutcome[]> {
  if (status === 'COMPLETED') return (await handleOf(client, id).result()).pairs ?? [];
  const input = await inputOfLatestRun(client, id);
  return input.carried?.done ?? input.resumeFrom ?? [];
}

export interface ResumedSweep extends StartedSweep {
  /** Finished layer pairs handed to the new run (it takes over those still current). */
  handedOver: number;
}

/**
 * A new run of a partial, failed, cancelled or terminated sweep under the same id, from its
 * config. The layer pairs the last run finished are handed over and taken over where their
 * artifacts are still current; the rest (failed and never-run pairs) run, and every other
 * finished artifact is found by content address. A sweep still running is attached to instead.
 */
export async function resumeSweep(client: Client, id: string, opts: StartSweepOptions & { config?: SweepConfig } = {}): Promise<ResumedSweep> {
  if (opts.config && sweepIdOf(opts.config) !== id) throw new UserInputError(`the given config is sweep ${sweepIdOf(opts.config)}, not ${id}`);
  let status: string;
  try {
    status = (await handleOf(client, id).describe()).status.name;
  } catch (e) {
    throw new UserInputError(`no sweep ${id} on this Temporal server (${(e as Error).message})`);
  }
  if (status === 'RUNNING') return { workflowId: id, attached: true, handedOver: 0 };
  const config = opts.config ?? (await configOfSweep(client, id));
  const finished = await finishedPairsOf(client, id, status);
  const started = await startRun(client, { config, ...(finished.length > 0 ? { resumeFrom: finished } : {}) }, id, opts);
  return { ...started, handedOver: finished.length };
}

export async function cancelSweep(client: Client, id: string): Promise<void> {
  await handleOf(client, id).cancel();
}

export interface WaitOptions {
  /**
   * Called every `pollMs` (default 1 s: each poll queries the sweep and describes and queries each
   * running child, and heartbeats arrive every 2 s) while the sweep runs, with its progress and what its
   * running children show (their progress and their activities' heartbeats: cli/sweepWork.ts).
   */
  onProgress?: (p: SweepProgress, live: SweepSnapshot) => void;
  pollMs?: number;
}

/** The running children's own progress and pending activities (a child that just closed is left out). */
export async function liveSnapshot(client: Client, progress: SweepProgress): Promise<SweepSnapshot> {
  const live = await Promise.all(
    progress.running.map(async (id) => {
      const [stage, activities] = await Promise.all([
        client.workflow
          .getHandle(id)
          .query(stageProgressQuery)
          .catch(() => undefined),
        activitiesOf(client, id),
      ]);
      return [id, { ...(stage ? { stage } : {}), activities }] as const;
    }),
  );
  return { progress, children: Object.fromEntries(live) };
}

/** Resolves with the outcome (following continue-as-new runs); a failure rejects with its root message. */
export async function waitForSweep(client: Client, id: string, opts: WaitOptions = {}): Promise<SweepOutcome> {
  const handle = handleOf(client, id);
  const result = handle.result();
  let settled = false;
  result.then(
    () => (settled = true),
    () => (settled = true),
  );
  const poll = (async () => {
    while (!settled && opts.onProgress) {
      try {
        const p = await handle.query(sweepProgressQuery);
        opts.onProgress(p, await liveSnapshot(client, p));
      } catch {
        // between runs (continue-as-new) or not yet picked up: try again
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
  })();
  try {
    return await result;
  } catch (e) {
    if (e instanceof WorkflowFailedError) throw new SweepFailedError(id, failureMessage(e), e);
    throw e;
  } finally {
    settled = true;
    await poll;
  }
}

export class SweepFailedError extends Error {
  override readonly name = 'SweepFailedError';
  constructor(
    readonly sweepId: string,
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}
