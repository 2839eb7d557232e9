// A real Temporal dev server (temp state dir), a ufg worker in this process on a temp artifact
// store, and a client: what the sweep integration tests run against.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Client } from '@temporalio/client';
import { ensureDemoFixtures } from '../cli/commands/demo.ts';
import { connectClient, connectWorker, startDevServer, type DevServer } from '../cli/temporal/index.ts';
import { demoConfig, type SweepConfig } from '../pipelines/config.ts';
import { LocalDirStore } from '../storage/store.ts';
import { runWorker } from '../worker/runWorker.ts';

export interface SweepTestEnv {
  dir: string;
  storeRoot: string;
  store: LocalDirStore;
  client: Client;
  server: DevServer;
  stop(): Promise<void>;
}

export async function startSweepTestEnv(): Promise<SweepTestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'ufg-temporal-'));
  const server = await startDevServer({ stateDir: join(dir, 'temporal'), headless: true });
  const opts = { address: server.address, namespace: server.namespace };
  const storeRoot = join(dir, 'store');
  const workerConnection = await connectWorker(opts);
  const abort = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const worker = runWorker({ connection: workerConnection, namespace: opts.namespace, storeRoot, signal: abort.signal, onReady: ready });
  await Promise.race([isReady, worker]);
  const { client, connection } = await connectClient(opts);
  return {
    dir,
    storeRoot,
    store: new LocalDirStore(storeRoot),
    client,
    server,
    async stop() {
      abort.abort();
      await worker.catch(() => {});
      await connection.close();
      await workerConnection.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The test file's shared setup: the env above and the demo config, with its fixtures. */
export interface DemoSweepSuite {
  env: SweepTestEnv;
  fixtures: string;
  demo: SweepConfig;
}

/** Registers the file's before/after hooks; `ready` receives the suite once it is set up. */
export function demoSweepSuite(ready: (suite: DemoSweepSuite) => void): void {
  const suite = {} as DemoSweepSuite;
  before(async () => {
    suite.fixtures = await ensureDemoFixtures();
    suite.env = await startSweepTestEnv();
    suite.demo = demoConfig(suite.fixtures, join(suite.env.dir, 'out'));
    ready(suite);
  });
  after(async () => {
    await suite.env?.stop();
  });
}
