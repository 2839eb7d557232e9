// A chaos run: a sweep of six layer pairs during which the worker is killed with SIGKILL five
// times (a new worker started after each), and the Temporal server is killed and restarted once.
// The kills are spaced by the undisturbed run's duration, not a fixed clock, so a fast machine
// still sees all five before the sweep ends. It finishes with results equal to an undisturbed run; the diagnostics report
// the kills survived, the activity attempts they cost and the time overhead.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { demoConfig, type SweepConfig } from '../../pipelines/config.ts';
import type { AttemptRecord, Manifest } from '../../storage/manifest.ts';
import type { SweepOutcome } from '../../workflows/index.ts';
import { assertSameResults, baselineResults, committedArtifacts, readManifestJson, readResultRows, writeLongCorpus } from './sweepScenario.ts';
import { restartServer, serverSuite, sleep } from './harness.ts';

const KILLS = 5;
/** Kills spread over the first part of the undisturbed run's duration, at most 30 s and at least 4 s apart. */
function killInterval(baselineSeconds: number): number {
  return Math.min(30_000, Math.max(4_000, (baselineSeconds * 1000) / (KILLS + 2)));
}
/** Which kill is followed by a kill -9 and restart of the server. */
const SERVER_KILL_AFTER = 3;
const suite = serverSuite('ufg-chaos-');

/** Six layer pairs (A1, A2 × B1, B2, B3) on the long corpus, with enough work to outlast the kills. */
async function chaosConfig(): Promise<SweepConfig> {
  const fixtures = await ensureDemoFixtures();
  const config = structuredClone(demoConfig(fixtures, join(suite.dir, 'out')));
  config.title = 'ufg chaos run';
  config.corpus = { ...config.corpus, path: writeLongCorpus(suite.dir), numSamples: 0, maxLength: 64, batchSize: 2 };
  config.models = { a: { ...config.models.a, layers: [1, 2] }, b: { ...config.models.b, layers: [1, 2, 3] } };
  config.chunkTokens = 64;
  config.similarity = { ...config.similarity, permutations: 400 };
  config.maxMapPoints = 100;
  config.orchestration = { ...config.orchestration, heartbeatTimeoutSeconds: 3, concurrency: 2 };
  return config;
}

test('chaos: 5 worker SIGKILLs spread over the run and a server kill -9, the sweep finishes with the undisturbed results', async (t) => {
  const config = await chaosConfig();
  const baseline = await baselineResults(config, suite.server.address);
  const intervalMs = killInterval(baseline.seconds);

  const storeRoot = join(suite.dir, 'store');
  let worker = await suite.startWorker(storeRoot);
  const started = performance.now();
  const { workflowId } = await startSweep(suite.conn.client, config);
  let outcome: SweepOutcome | undefined;
  const finished = waitForSweep(suite.conn.client, workflowId).then((o) => (outcome = o));
  finished.catch(() => {});
  let kills = 0;
  for (let i = 1; i <= KILLS && !outcome; i++) {
    await Promise.race([sleep(intervalMs), finished]);
    if (outcome) break;
    worker.kill9();
    await worker.exited;
    kills++;
    if (i === SERVER_KILL_AFTER) suite.server = await restartServer(suite.server, suite.stateDir, { crash: true, downMs: 1000 });
    worker = await suite.startWorker(storeRoot);
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
    `survived ${kills} worker SIGKILLs (${(intervalMs / 1000).toFixed(0)} s apart) and 1 server kill -9; ${ids.length} artifacts, ${retried} of them committed by a later attempt ` +
      `(${attempts} attempts in all); ${seconds.toFixed(0)} s against ${baseline.seconds.toFixed(0)} s undisturbed (overhead ${(seconds - baseline.seconds).toFixed(0)} s, ` +
      `${((seconds - baseline.seconds) / kills).toFixed(1)} s per kill); staging folders left: ${staging}; largest relative difference ${deviation.toExponential(1)}`,
  );
});
