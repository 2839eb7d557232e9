// Activity proxies with explicit timeouts and retries, by kind of activity. A sweep runs for days
// on shared machines, so an infrastructure failure (a rebooted node, an NFS hiccup, a killed
// worker) is retried with backoff capped at five minutes for as long as the kind's
// schedule-to-close budget lasts, however many attempts that takes. Deterministic failures are
// non-retryable at their source (activities/context.ts turns UserInputError into a non-retryable
// failure): bad input, and a source file that changed since the sweep registered it. Heartbeat
// timeouts (how soon a dead worker is noticed) are the sweep config's.
import { proxyActivities, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

export const CPU_QUEUE = 'cpu';
export const GPU_QUEUE = 'gpu';


const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '5m',
  // Unlimited: the schedule-to-close timeout of the activity's kind is the budget.
  maximumAttempts: Number.POSITIVE_INFINITY,
  // Already non-retryable where raised; listed so a failure of that type never retries.
  nonRetryableErrorTypes: ['UserInputError'],
};

type Kind = 'setup' | 'model' | 'analysis' | 'publish';

/**
 * startToClose: one attempt at most; scheduleToClose: every attempt and every wait between them
 * (and for a free worker), together.
 */
interface KindOptions extends Required<Pick<ActivityOptions, 'taskQueue' | 'startToCloseTimeout' | 'scheduleToCloseTimeout'>> {
  /**
   * Floor of the heartbeat timeout. ONNX Runtime work (and the pairing's Hungarian assignment)
   * runs in compute threads and UMAP yields between epochs, so what still holds the activity's
   * event loop is plain JS of seconds at most (tokenizing a corpus, building tables and pages);
   * the floor covers that without making a lost worker cost minutes.
   */
  minHeartbeatSeconds: number;
}

/**
 * `setup`: checks, source registration, tokenizing; `model` (gpu): forward passes, SAE encoding,
 * pairing, hours each; `analysis`: similarity, subspaces and the feature map of one layer pair;
 * `publish`: results table and report. The budgets let a sweep ride out an outage of most of a
 * day at any stage, and still end inside two days when something is broken for good.
 */
const KINDS: Record<Kind, KindOptions> = {
  setup: { taskQueue: CPU_QUEUE, startToCloseTimeout: '6h', scheduleToCloseTimeout: '24h', minHeartbeatSeconds: 15 },
  model: { taskQueue: GPU_QUEUE, startToCloseTimeout: '24h', scheduleToCloseTimeout: '48h', minHeartbeatSeconds: 0 },
  analysis: { taskQueue: CPU_QUEUE, startToCloseTimeout: '12h', scheduleToCloseTimeout: '24h', minHeartbeatSeconds: 15 },
  publish: { taskQueue: CPU_QUEUE, startToCloseTimeout: '2h', scheduleToCloseTimeout: '24h', minHeartbeatSeconds: 15 },
};

/** Every activity's kind (a new activity does not compile until it has one). */
const KIND_OF: Record<keyof Activities, Kind> = {
  validateSweep: 'setup',
  registerSources: 'setup',
  tokenize: 'setup',
  findFinishedPairs: 'setup',
  randomInitModel: 'setup',
  extract: 'model',
  featureStats: 'model',
  pairLayer: 'model',
  pairShift: 'model',
  scoreLayerPair: 'analysis',
  scoreSelectionNull: 'analysis',
  bootstrapLayerPair: 'analysis',
  layerCorrespondence: 'publish',
  analyseSubspaces: 'analysis',
  renderFeatureMap: 'analysis',
  retrieveLayerPair: 'analysis',
  pairingStability: 'model',
  writeResults: 'publish',
  writeReport: 'publish',
};

export type SweepActivities = ActivityInterfaceFor<Activities>;

/** The options an activity is scheduled with: its kind's queue and timeouts, the retry policy above. */
export function activityOptions(name: keyof Activities, heartbeatSeconds: number): ActivityOptions {
  const k = KINDS[KIND_OF[name]];
  return {
    taskQueue: k.taskQueue,
    startToCloseTimeout: k.startToCloseTimeout,
    scheduleToCloseTimeout: k.scheduleToCloseTimeout,
    heartbeatTimeout: `${Math.max(k.minHeartbeatSeconds, heartbeatSeconds)}s`,
    retry: RETRY,
  };
}

/** Proxies of every activity, each scheduled with activityOptions. */
export function sweepActivities(heartbeatSeconds: number): SweepActivities {
  const out: Partial<Record<keyof Activities, unknown>> = {};
  for (const name of Object.keys(KIND_OF) as (keyof Activities)[]) out[name] = proxyActivities<Activities>(activityOptions(name, heartbeatSeconds))[name];
  return out as SweepActivities;
}
