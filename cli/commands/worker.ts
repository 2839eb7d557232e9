// `ufg worker`: a worker alone (one per machine of a cluster), serving the cpu and/or gpu task
// queues against TEMPORAL_ADDRESS (or --address) and a shared artifact store.
import { resolve } from 'node:path';
import { parseOptions } from '../args.ts';
import { UserInputError } from '../../pipelines/errors.ts';
import { defaultStoreRoot } from '../../storage/store.ts';
import { runWorker, type TaskQueueName } from '../../worker/runWorker.ts';
import { connectWorker, temporalFlagSpec, temporalOptions } from '../temporal/index.ts';
import { applyDeviceOption } from '../inputs.ts';

export const summary = 'run a worker alone (cpu and/or gpu task queue) against a Temporal cluster and a shared store';

export const help = `usage: ufg worker [--task-queue cpu|gpu] [--store DIR] [--device cpu|cuda] [--address host:port] [--namespace NS]
  --task-queue  serve only this queue (default both): gpu = extraction, encoding, pairing;
                cpu = workflows, similarity, subspaces, rendering, results
  --store       artifact store root shared by every worker (default $UFG_HOME/store or ./.ufg/store)
  Temporal: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TLS via TEMPORAL_TLS_* or flags`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    'task-queue': { type: 'string' },
    store: { type: 'string' },
    device: { type: 'string' },
    ...temporalFlagSpec,
  });
  const q = values['task-queue'];
  if (q !== undefined && q !== 'cpu' && q !== 'gpu') throw new UserInputError(`--task-queue must be cpu or gpu, got '${q}'`);
  applyDeviceOption(values.device);
  const opts = temporalOptions(values);
  const storeRoot = resolve(values.store ?? defaultStoreRoot());
  const connection = await connectWorker(opts);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const queues: TaskQueueName[] = q ? [q] : ['cpu', 'gpu'];
  try {
    await runWorker({
      connection,
      namespace: opts.namespace,
      taskQueues: queues,
      storeRoot,
      signal: abort.signal,
      onReady: () => console.error(`ufg worker: serving ${queues.join(' + ')} on ${opts.address} (namespace ${opts.namespace}), store ${storeRoot}`),
    });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    await connection.close();
  }
  return 0;
}
