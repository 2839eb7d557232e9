// What a failure deep in a child workflow's activity should say to the user: its own message, not
// "child workflow failed". A bad input is re-raised non-retryable as the sweep's failure; a failed
// layer pair is summarised in one line for the sweep's outcome and progress.
import { ActivityFailure, ApplicationFailure, TemporalFailure, TimeoutFailure } from '@temporalio/workflow';

export const USER_INPUT_ERROR_TYPE = 'UserInputError';

export function rootApplicationFailure(e: unknown): ApplicationFailure | undefined {
  let cur: unknown = e;
  let found: ApplicationFailure | undefined;
  for (let depth = 0; cur instanceof Error && depth < 20; depth++) {
    if (cur instanceof ApplicationFailure) found = cur;
    cur = cur instanceof TemporalFailure ? cur.cause : undefined;
  }
  return found;
}

/** Rethrows `e`, surfacing a UserInputError from anywhere in its cause chain as the failure. */
export function rethrowSurfacingUserInput(e: unknown): never {
  const root = rootApplicationFailure(e);
  if (root && root.type === USER_INPUT_ERROR_TYPE) throw ApplicationFailure.nonRetryable(root.message, USER_INPUT_ERROR_TYPE);
  throw e;
}

/**
 * One line for a failed part of the sweep: the activity that failed, how (a timeout after its
 * retry budget, or a non-retryable error), and the root error's message, e.g.
 * `pairLayer: /data/saes/layers.3: changed since …` or
 * `extract: timed out (SCHEDULE_TO_CLOSE); last failure: EIO: i/o error, read`.
 */
export function failureSummary(e: unknown): string {
  let activity: string | undefined;
  let timeout: string | undefined;
  let deepest = e instanceof Error ? e.message : String(e);
  let cur: unknown = e;
  for (let depth = 0; cur instanceof Error && depth < 20; depth++) {
    if (cur instanceof ActivityFailure) activity ??= cur.activityType;
    if (cur instanceof TimeoutFailure) timeout ??= cur.timeoutType;
    deepest = cur.message;
    cur = cur instanceof TemporalFailure ? cur.cause : undefined;
  }
  const root = rootApplicationFailure(e)?.message ?? deepest;
  const how = timeout ? `timed out (${timeout}); last failure: ${root}` : root;
  return activity ? `${activity}: ${how}` : how;
}
