// Activity proxies, one per task queue, with explicit timeouts and retries. `gpu`: model forward
// passes, SAE encoding, pairing; `cpu`: sources, tokenizing, similarity, subspaces, rendering,
// results. Bad input (UserInputError) is never retried.
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

export const CPU_QUEUE = 'cpu';
export const GPU_QUEUE = 'gpu';

const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 8,
  nonRetryableErrorTypes: ['UserInputError'],
};

/** Heartbeating activities on `gpu`: a dead worker is noticed after `heartbeatSeconds`. */
export function gpuActivities(heartbeatSeconds: number) {
  return proxyActivities<Activities>({
    taskQueue: GPU_QUEUE,
    startToCloseTimeout: '24h',
    heartbeatTimeout: `${heartbeatSeconds}s`,
    retry: RETRY,
  });
}

/**
 * `cpu` activities: parts of them (UMAP layout, JS loops) hold the event loop for a while, so
 * their heartbeat timeout is at least two minutes to avoid retrying healthy work.
 */
export function cpuActivities(heartbeatSeconds: number) {
  return proxyActivities<Activities>({
    taskQueue: CPU_QUEUE,
    startToCloseTimeout: '12h',
    heartbeatTimeout: `${Math.max(120, heartbeatSeconds)}s`,
    retry: RETRY,
  });
}
