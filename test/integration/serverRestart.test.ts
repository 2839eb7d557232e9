// Stop and restart the dev server mid-sweep on the same SQLite file (once cleanly during
// extraction, once with kill -9 while the layer pair runs): the same workflow run continues, the
// worker reconnects by itself, the sweep completes with the results of an uninterrupted run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { connectClient, type ConnectedClient, type DevServer } from '../../cli/temporal/index.ts';
import { sweepProgressQuery } from '../../workflows/index.ts';
import { restartServer, spawnWorker, startTestServer, tempDir, waitFor, type UfgProcess } from './harness.ts';
import { assertSameResults, baselineResults, extractionStaging, readResultRows, scenarioConfig, type Baseline, type Scenario } from './sweepScenario.ts';

const tmp = tempDir('ufg-restart-');
const stateDir = join(tmp.dir, 'temporal');
let server: DevServer;
let conn: ConnectedClient;
let scenario: Scenario;
let baseline: Baseline;
let worker: UfgProcess | undefined;

before(async () => {
  server = await startTestServer(stateDir);
  scenario = await scenarioConfig(join(tmp.dir, 'work'), join(tmp.dir, 'out'));
  baseline = await baselineResults(scenario.config, server.address);
  conn = await connectClient({ address: server.address, namespace: server.namespace });
});
after(async () => {
  await worker?.stop();
  await conn?.connection.close();
  await server?.stop();
  tmp.cleanup();
});

test('the dev server stops and restarts twice mid-sweep: the same run continues and completes, same results', async (t) => {
  const storeRoot = join(tmp.dir, 'store');
  worker = spawnWorker(server.address, storeRoot);
  await waitFor('the worker to poll', () => /ufg worker: serving/.test(worker!.output()), { timeoutMs: 180_000 });
  const { workflowId, runId } = await startSweep(conn.client, scenario.config);
  const handle = conn.client.workflow.getHandle(workflowId);

  await waitFor('an extraction to persist chunks', () => extractionStaging(storeRoot).some((s) => s.chunks >= 2 && !s.done), { timeoutMs: 180_000, intervalMs: 25 });
  server = await restartServer(server, stateDir, { downMs: 2_000 });
  t.diagnostic('server restarted (SIGTERM) during extraction');

  await waitFor('the layer pair to start', async () => (await handle.query(sweepProgressQuery)).pairs.some((p) => p.status === 'running'), { timeoutMs: 300_000, intervalMs: 200 });
  server = await restartServer(server, stateDir, { crash: true, downMs: 2_000 });
  t.diagnostic('server restarted (kill -9) while the layer pair ran');

  const outcome = await waitForSweep(conn.client, workflowId);
  const d = await handle.describe();
  assert.equal(d.status.name, 'COMPLETED');
  assert.equal(d.runId, runId, 'the run started before the restarts is the one that completed');
  const deviation = assertSameResults(await readResultRows(outcome.resultsPath), baseline.rows, 'across server restarts');
  t.diagnostic(`results equal the uninterrupted run's (largest relative float difference ${deviation.toExponential(1)})`);
  assert.equal(worker.child.exitCode, null, `the worker survived both restarts:\n${worker.output().slice(-2000)}`);
});
