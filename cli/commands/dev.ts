// `ufg dev`: the embedded default. Starts the Temporal dev server (state in
// `<state-dir>/temporal.db`, so runs survive a restart) and a worker in this process; Ctrl-C
// stops the worker first, then the server. With TEMPORAL_ADDRESS (or --address) set, only the
// worker runs, against that cluster.
import { join, resolve } from 'node:path';
import { intOption, parseOptions } from '../args.ts';
import { UserInputError } from '../../pipelines/errors.ts';
import { runWorker, type TaskQueueName } from '../../worker/runWorker.ts';
import { connectWorker, externalAddressGiven, startDevServer, temporalFlagSpec, temporalOptions, type DevServer } from '../temporal/index.ts';

export const summary = 'embedded Temporal dev server (SQLite state, survives restarts) + a worker; Ctrl-C stops both';

export const help = `usage: ufg dev [--state-dir DIR] [--port 7233] [--ui-port N] [--ip 127.0.0.1] [--headless] [--store DIR] [--task-queue cpu|gpu]
  --state-dir   where temporal.db, temporal.log and the default store live (default $UFG_HOME or ./.ufg)
  --port        Temporal frontend port (default 7233; the Web UI on port+1000 unless --ui-port)
  --ip          interface to listen on (0.0.0.0 lets workers on other machines connect)
  --store       artifact store root (default <state-dir>/store)
  --task-queue  serve only this queue (default both cpu and gpu)
With TEMPORAL_ADDRESS (or --address) set, no server is started: only the worker, against that cluster.`;

type TaskQueue = TaskQueueName;

function taskQueuesOf(value: string | undefined): TaskQueue[] | undefined {
  if (value === undefined) return undefined;
  if (value !== 'cpu' && value !== 'gpu') throw new UserInputError(`--task-queue must be cpu or gpu, got '${value}'`);
  return [value];
}

/** Resolves on the first SIGINT/SIGTERM; a second one while shutting down exits at once. */
function untilSignal(onForce: () => void): { signalled: Promise<NodeJS.Signals>; dispose: () => void } {
  let first: NodeJS.Signals | undefined;
  let resolveSignal!: (s: NodeJS.Signals) => void;
  const signalled = new Promise<NodeJS.Signals>((r) => (resolveSignal = r));
  const handler = (s: NodeJS.Signals) => {
    if (first) return onForce();
    first = s;
    resolveSignal(s);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signalled,
    dispose: () => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
    },
  };
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    'state-dir': { type: 'string' },
    port: { type: 'string' },
    'ui-port': { type: 'string' },
    ip: { type: 'string' },
    headless: { type: 'boolean' },
    store: { type: 'string' },
    'task-queue': { type: 'string' },
    ...temporalFlagSpec,
  });
  const stateDir = resolve(values['state-dir'] ?? process.env.UFG_HOME ?? '.ufg');
  const storeRoot = resolve(values.store ?? join(stateDir, 'store'));
  const taskQueues = taskQueuesOf(values['task-queue']);
  const port = intOption(values.port, 'port', 7233);
  const uiPort = intOption(values['ui-port'], 'ui-port', port + 1000);

  let server: DevServer | undefined;
  const abort = new AbortController();
  const signals = untilSignal(() => {
    console.error('ufg dev: second interrupt, killing the server now');
    server?.kill9();
    process.exit(130);
  });
  try {
    const external = externalAddressGiven(values);
    let opts = temporalOptions(values);
    if (!external) {
      server = await startDevServer({ stateDir, port, uiPort, ip: values.ip, headless: values.headless, log: join(stateDir, 'temporal.log') });
      opts = { ...opts, address: server.address, namespace: server.namespace };
      console.log(`Temporal dev server: ${server.address} (pid ${server.pid}, state ${server.dbFile}, log ${join(stateDir, 'temporal.log')})`);
      if (server.uiUrl) console.log(`Temporal Web UI:     ${server.uiUrl}`);
      console.log(`Other shells:        export TEMPORAL_ADDRESS=${server.address}`);
    }
    const connection = await connectWorker(opts);
    console.log(`Worker:              namespace ${opts.namespace}, task queues ${(taskQueues ?? ['cpu', 'gpu']).join(', ')}, store ${storeRoot}`);
    const worker = runWorker({
      connection,
      namespace: opts.namespace,
      taskQueues,
      storeRoot,
      signal: abort.signal,
      onReady: () => console.log(`ufg dev: ready on ${opts.address}; Ctrl-C to stop`),
    });
    // The worker ending on its own (a fatal error) also ends `ufg dev`.
    const outcome = await Promise.race([
      signals.signalled.then((s) => ({ kind: 'signal' as const, s })),
      worker.then(
        () => ({ kind: 'worker-ended' as const }),
        (e: unknown) => ({ kind: 'worker-failed' as const, e }),
      ),
    ]);
    if (outcome.kind === 'signal') {
      console.log(`ufg dev: ${outcome.s}, stopping the worker (in-flight activities are retried later)…`);
      abort.abort();
      await worker.catch((e: unknown) => console.error(`ufg dev: worker stopped with an error: ${(e as Error).message}`));
    }
    await connection.close();
    if (outcome.kind === 'worker-failed') throw outcome.e;
    return 0;
  } finally {
    if (server) {
      console.log('ufg dev: stopping the Temporal dev server…');
      await server.stop();
      console.log('ufg dev: stopped');
    }
    signals.dispose();
  }
}
