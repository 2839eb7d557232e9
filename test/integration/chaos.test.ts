// A chaos run: a sweep of six layer pairs during which the worker is killed with SIGKILL five
// times, 30 s apart (a new worker started after each), and the Temporal server is killed and
// restarted once. It finishes with results equal to an undisturbed run; the diagnostics report
// the kills survived, the activity attempts they cost and the time overhead.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { connectClient, type ConnectedClient, type DevServer } from '../../cli/temporal/index.ts';
import { demoConfig, type SweepConfig } from '../../pipelines/config.ts';
import type { AttemptRecord, Manifest } from '../../storage/manifest.ts';
import type { SweepOutcome } from '../../workflows/index.ts';
import { assertSameResults, baselineResults, committedArtifacts, readManifestJson, readResultRows, writeLongCorpus } from './sweepScenario.ts';
import { restartServer, sleep, spawnWorker, startTestServer, tempDir, waitFor, type UfgProcess } from './harness.ts';

const KILLS = 5;
const INTERVAL_MS = 30_000;
/** Which kill is followed by a kill -9 and restart of the server. */
const SERVER_KILL_AFTER = 3;
const tmp = tempDir('ufg-chaos-');
const stateDir = join(tmp.dir, 'temporal');
let server: DevServer;
let conn: ConnectedClient;
const workers: UfgProcess[] = [];

before(async () => {
  server = await startTestServer(stateDir);
  conn = await connectClient({ address: server.address, namespace: server.namespace });
});
after(async () => {
  for (const w of workers) await w.stop();
  await conn?.connection.close();
  await server?.stop();
  tmp.cleanup();
});

async function startWorker(storeRoot: string): Promise<UfgProcess> {
  const w = spawnWorker(server.address, storeRoot);
  workers.push(w);
  await waitFor('the worker to poll', () => /ufg worker: serving/.test(w.output()), { timeoutMs: 180_000 });
  return w;
}

/** Six layer pairs (A1, A2 × B1, B2, B3) on the long corpus, with enough work to outlast the kills. */
async function chaosConfig(): Promise<SweepConfig> {
  const fixtures = await ensureDemoFixtures();
  const config = structuredClone(demoConfig(fixtures, join(tmp.dir, 'out')));
  config.title = 'ufg chaos run';
  config.corpus = { ...config.corpus, path: writeLongCorpus(tmp.dir), numSamples: 0, maxLength: 64, batchSize: 2 };
  config.models = { a: { ...config.models.a, layers: [1, 2] }, b: { ...config.models.b, layers: [1, 2, 3] } };
  config.chunkTokens = 64;
  config.similarity = { ...config.similarity, permutations: 400 };
  config.maxMapPoints = 100;
  config.orchestration = { ...config.orchestration, heartbeatTimeoutSeconds: 3, concurrency: 2 };
  return config;
}

test('chaos: 5 worker SIGKILLs 30 s apart and a server kill -9, the sweep finishes with the undisturbed results', async (t) => {
  const config = await chaosConfig();
  const baseline = await baselineResults(config, server.address);

  const storeRoot = join(tmp.dir, 'store');
  let worker = await startWorker(storeRoot);
  const started = performance.now();
  const { workflowId } = await startSweep(conn.client, config);
  let outcome: SweepOutcome | undefined;
  const finished = waitForSweep(conn.client, workflowId).then((o) => (outcome = o));
  finished.catch(() => {});
  let kills = 0;
  for (let i = 1; i <= KILLS && !outcome; i++) {
    await Promise.race([sleep(INTERVAL_MS), finished]);
    if (outcome) break;
    worker.kill9();
    await worker.exited;
    kills++;
    if (i === SERVER_KILL_AFTER) server = await restartServer(server, stateDir, { crash: true, downMs: 1000 });
    worker = await startWorker(storeRoot);
  }
  assert.equal(kills, KILLS, `the sweep outlasted ${KILLS} kills (it finished after ${kills}; the baseline took ${baseline.seconds.toFixed(0)} s)`);
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const deviation = assertSameResults(await readResultRows(outcome!.resultsPath), baseline.rows, 'after the chaos run');

  // Attempts per artifact: how much work the kills cost.
  const ids = committedArtifacts(storeRoot);
  let retried = 0, attempts = 0;
  for (const id of ids) {
    const m = readManifestJson<Manifest & { attempts?: AttemptRecord[] }>(storeRoot, id);
    const n = m.attempts?.length ?? 1;
    attempts += n;
    if (n > 1) retried++;
  }
  const staging = readdirSync(join(storeRoot, '.staging')).length;
  t.diagnostic(
    `survived ${kills} worker SIGKILLs (30 s apart) and 1 server kill -9; ${ids.length} artifacts, ${retried} of them committed by a later attempt ` +
      `(${attempts} attempts in all); ${seconds.toFixed(0)} s against ${baseline.seconds.toFixed(0)} s undisturbed (overhead ${(seconds - baseline.seconds).toFixed(0)} s, ` +
      `${((seconds - baseline.seconds) / kills).toFixed(1)} s per kill); staging folders left: ${staging}; largest relative difference ${deviation.toExponential(1)}`,
  );
});
