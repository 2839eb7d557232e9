// What every activity shares: who is producing (for manifests), heartbeats while it works (so a
// worker that dies is noticed within the heartbeat timeout and a cancellation reaches it), prompt
// cancellation, and the mapping of bad input to a non-retryable failure. Activities also run as
// plain functions outside Temporal (tests, tools): then there is no context and these are no-ops.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isUserInputError } from '../pipelines/errors.ts';
import { withAbortSignal } from '../pipelines/kernels/session.ts';
import type { Producer } from '../storage/manifest.ts';

/** The error type name that retry policies list as non-retryable. */
export const USER_INPUT_ERROR_TYPE = 'UserInputError';

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** {workflowId, runId, activity, attempt} of the running activity, or undefined outside one. */
export function activityProducer(): Producer | undefined {
  const ctx = currentContext();
  if (!ctx) return undefined;
  const i = ctx.info;
  return { workflowId: i.workflowExecution?.workflowId, runId: i.workflowExecution?.runId, activity: i.activityType, attempt: i.attempt };
}

/** Aborted when the running activity is cancelled; undefined outside one. */
export function activitySignal(): AbortSignal | undefined {
  return currentContext()?.cancellationSignal;
}

/** Heartbeat details of the previous attempt (e.g. the extraction cursor), if any. */
export function previousHeartbeat<T>(): T | undefined {
  return currentContext()?.info.heartbeatDetails as T | undefined;
}

export interface ActivityProgress {
  /** Records progress and heartbeats it now (the details a query or a retry can see). */
  report(details: unknown): void;
  /** Throws the cancellation if the activity was cancelled (call between chunks). */
  checkCancelled(): void;
}

/**
 * Runs an activity body: heartbeats the last reported details every third of the heartbeat
 * timeout while it runs (the event loop stays free: ONNX Runtime work runs in compute threads,
 * pipelines/kernels/session.ts), makes the activity's cancellation the abort signal of every
 * ONNX Runtime call the body makes (so the body stops at its next kernel call), resolves only
 * once the body has stopped, and turns UserInputError into a non-retryable ApplicationFailure.
 */
export async function runActivity<T>(body: (progress: ActivityProgress) => Promise<T>): Promise<T> {
  const ctx = currentContext();
  let details: unknown = undefined;
  const progress: ActivityProgress = {
    report(d) {
      details = d;
      ctx?.heartbeat(d);
    },
    checkCancelled() {
      if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('activity cancelled');
    },
  };
  const every = Math.max(200, Math.min(5000, (ctx?.info.heartbeatTimeoutMs ?? 30_000) / 3));
  const ticker = ctx ? setInterval(() => ctx.heartbeat(details), every) : undefined;
  try {
    return ctx ? await withAbortSignal(ctx.cancellationSignal, () => body(progress)) : await body(progress);
  } catch (e) {
    if (isUserInputError(e)) throw ApplicationFailure.nonRetryable(e.message, USER_INPUT_ERROR_TYPE);
    throw e;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
