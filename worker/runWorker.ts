// A ufg worker: one Temporal Worker per task queue it serves, all in this process. The `cpu`
// worker also runs the workflows (orchestration is cheap); a `gpu`-only worker serves just the
// heavy model-side activities, so GPU machines can be added to a cluster on their own.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import type { PairedScorer } from '../pipelines/pair/pairedScores.ts';
import { openStore } from '../storage/store.ts';
import { CPU_QUEUE, GPU_QUEUE } from '../workflows/options.ts';
import { workflowBundle } from './bundle.ts';

export type TaskQueueName = 'cpu' | 'gpu';
export const TASK_QUEUES: readonly TaskQueueName[] = ['cpu', 'gpu'];

export interface RunWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** Default both. */
  taskQueues?: TaskQueueName[];
  /** The artifact store every activity reads and writes (shared by all machines of a cluster). */
  storeRoot: string;
  /** Aborting stops the workers (activities in flight are cancelled after a short grace time). */
  signal?: AbortSignal;
  /** SVCCA/RSA implementation; default the similarity stage's. */
  scorer?: PairedScorer;
  /** Called once every worker is polling. */
  onReady?: () => void;
}

/** Activities at once per queue: forward passes and pairing use all cores through ONNX Runtime. */
const CONCURRENT_ACTIVITIES: Record<TaskQueueName, number> = { gpu: 2, cpu: 4 };

/**
 * Heartbeats reach the server at most this often. The SDK's default (0.8 × the heartbeat timeout:
 * 24 s at 30 s, up to 60 s) would leave the progress bar, which reads the running activities'
 * `{ unit, done, total }` from their last recorded heartbeat, that far behind; a few running
 * activities per worker at one heartbeat every 2 s are nothing for the server.
 */
export const HEARTBEAT_THROTTLE = '2s';

export async function runWorker(opts: RunWorkerOptions): Promise<void> {
  const queues = [...new Set(opts.taskQueues ?? TASK_QUEUES)];
  if (opts.signal?.aborted) return;
  const activities = createActivities({ store: openStore(opts.storeRoot), ...(opts.scorer ? { scorer: opts.scorer } : {}) });
  const workers: Worker[] = [];
  for (const q of queues) {
    workers.push(
      await Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: q === 'cpu' ? CPU_QUEUE : GPU_QUEUE,
        activities,
        ...(q === 'cpu' ? { workflowBundle: await workflowBundle() } : {}),
        maxConcurrentActivityTaskExecutions: CONCURRENT_ACTIVITIES[q],
        maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
        shutdownGraceTime: '5s',
      }),
    );
  }
  const stop = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    const running = Promise.all(workers.map((w) => w.run()));
    opts.onReady?.();
    if (opts.signal?.aborted) stop();
    await running;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
}
