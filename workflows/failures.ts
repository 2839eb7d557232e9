// A bad input deep in a child workflow's activity should reach the user as its own message, not
// as "child workflow failed": find the root ApplicationFailure and re-raise it non-retryable.
import { ApplicationFailure, TemporalFailure } from '@temporalio/workflow';

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
