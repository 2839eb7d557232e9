// Stop and restart the dev server mid-sweep on the same SQLite file (once cleanly during
// extraction, once with kill -9 while the layer pair runs): the same workflow run continues, the
// worker reconnects by itself, the sweep completes with the results of an uninterrupted run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { sweepProgressQuery } from '../../workflows/index.ts';
import { restartServer, waitFor } from './harness.ts';
import { assertSameResults, extractionStaging, readResultRows, scenarioSuite } from './sweepScenario.ts';

const suite = scenarioSuite('ufg-restart-');

test('the dev server stops and restarts twice mid-sweep: the same run continues and completes, same results', async (t) => {
  const { conn, scenario, baseline, stateDir } = suite;
  const storeRoot = join(suite.dir, 'store');
  const worker = await suite.startWorker(storeRoot);
  const { workflowId, runId } = await startSweep(conn.client, scenario.config);
  const handle = conn.client.workflow.getHandle(workflowId);

  await waitFor('an extraction to persist chunks', () => extractionStaging(storeRoot).some((s) => s.chunks >= 2 && !s.done), { timeoutMs: 180_000, intervalMs: 25 });
  suite.server = await restartServer(suite.server, stateDir, { downMs: 2_000 });
  t.diagnostic('server restarted (SIGTERM) during extraction');

  await waitFor('the layer pair to start', async () => (await handle.query(sweepProgressQuery)).pairs.some((p) => p.status === 'running'), { timeoutMs: 300_000, intervalMs: 200 });
  suite.server = await restartServer(suite.server, stateDir, { crash: true, downMs: 2_000 });
  t.diagnostic('server restarted (kill -9) while the layer pair ran');

  const outcome = await waitForSweep(conn.client, workflowId);
  const d = await handle.describe();
  assert.equal(d.status.name, 'COMPLETED');
  assert.equal(d.runId, runId, 'the run started before the restarts is the one that completed');
  const deviation = assertSameResults(await readResultRows(outcome.resultsPath), baseline.rows, 'across server restarts');
  t.diagnostic(`results equal the uninterrupted run's (largest relative float difference ${deviation.toExponential(1)})`);
  assert.equal(worker.child.exitCode, null, `the worker survived both restarts:\n${worker.output().slice(-2000)}`);
});
