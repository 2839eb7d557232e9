// One layer pair fails deterministically — the SAE it needs is changed on disk after model prep
// registered it — while the others run: the sweep finishes the others, completes as partial with
// the failed pair and its error, writes the results and the report for what finished (the failed
// cell marked, its error on hover), `ufg sweep status` exits 3. After the file is restored,
// `ufg sweep resume` runs only the failed pair: the finished one is taken over without running, and
// the only artifacts computed are the failed pair's five (its categories' pairings among them)
// plus the new results and report.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import type { SweepConfig } from '../../pipelines/config.ts';
import { readParquetTable } from '../../storage/parquet.ts';
import { sweepProgressQuery, type SweepOutcome } from '../../workflows/index.ts';
import { demoSweepSuite, type SweepTestEnv } from '../temporal.env.ts';
import { spawnUfg, waitFor } from './harness.ts';

let env: SweepTestEnv;
let demo: SweepConfig;
demoSweepSuite((s) => ({ env, demo } = s));

/** Attempts of the activities a workflow started, and whether its activity failures were non-retryable. */
async function attemptsOf(workflowId: string): Promise<{ attempts: number[]; nonRetryable: boolean[] }> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const attempts: number[] = [];
  const nonRetryable: boolean[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskStartedEventAttributes) attempts.push(e.activityTaskStartedEventAttributes.attempt ?? 0);
    const f = e.activityTaskFailedEventAttributes?.failure;
    if (f) nonRetryable.push(f.applicationFailureInfo?.nonRetryable === true);
  }
  return { attempts, nonRetryable };
}

test('a layer pair whose SAE changed after registration fails alone; the sweep completes partial; resume runs only that pair', async (t) => {
  // Model B's SAEs in a folder of our own, so one file can be changed under the running sweep.
  const saesB = join(env.dir, 'saes-b');
  cpSync(demo.models.b.sae as string, saesB, { recursive: true });
  const config = structuredClone(demo);
  config.models.a.layers = [1];
  config.models.b.layers = [1, 2];
  config.models.b.sae = saesB;
  config.similarity.permutations = 50;
  config.orchestration.concurrency = 1; // A1↔B1 runs before A1↔B2 starts
  config.outDir = join(env.dir, 'partial-out');
  // Demo layer 2 of model B gets the SAE of block 1 (trained on hidden_states[2]); A1↔B1 does not read it.
  const saeFolder = join(saesB, 'blocks.1.hook_resid_post');
  const weights = join(saeFolder, 'sae_weights.safetensors');
  const original = readFileSync(weights);

  const { workflowId } = await startSweep(env.client, config);
  const handle = env.client.workflow.getHandle(workflowId);
  await waitFor(
    'both models prepared and the first layer pair running',
    async () => {
      const p = await handle.query(sweepProgressQuery);
      return p.pairs[0]!.status === 'running' && p.pairs[1]!.status === 'pending';
    },
    { timeoutMs: 180_000, intervalMs: 25 },
  );
  const changed = Buffer.from(original);
  changed[changed.length - 1]! ^= 0xff; // same size, other bytes: a real corruption of the weights
  writeFileSync(weights, changed);

  const partial = await waitForSweep(env.client, workflowId);
  assert.equal((await handle.describe()).status.name, 'COMPLETED');
  assert.equal(partial.layerPairs, 1);
  assert.deepEqual(partial.pairs.map((p) => [p.layerA, p.layerB]), [[1, 1]]);
  assert.equal(partial.failed.length, 1);
  const [failed] = partial.failed;
  assert.deepEqual([failed!.layerA, failed!.layerB, failed!.workflowId], [1, 2, `${workflowId}.pair-A1-B2`]);
  assert.match(failed!.error, new RegExp(`^pairLayer: ${saeFolder}: changed since this sweep registered it as source-[0-9a-f]{16} \\(sae_weights\\.safetensors: sha256 `));
  t.diagnostic(`failed pair's error: ${failed!.error}`);
  const pairHistory = await attemptsOf(failed!.workflowId);
  assert.deepEqual(pairHistory.attempts, [1], 'the failing activity ran once');
  assert.deepEqual(pairHistory.nonRetryable, [true], 'its failure is non-retryable');

  // The results and the report hold the finished pair; the report marks the failed one.
  const table = await readParquetTable(partial.resultsPath);
  assert.ok(table.numRows > 0);
  assert.deepEqual([...new Set(table.columns.layer_b!)], [1], 'only A1↔B1 rows');
  const report = readFileSync(partial.reportPath, 'utf8');
  assert.match(report, /data-testid="cell-svcca-1-1" data-observed="/);
  const failedCell = /<rect class="failed"[^>]*data-testid="cell-svcca-1-2" data-failed="1" data-tip="([^"]*)"/.exec(report);
  assert.ok(failedCell, 'the A1↔B2 cell is drawn as failed');
  assert.match(failedCell[1]!, /A layer 1 ↔ B layer 2: failed\npairLayer: .*sae_weights\.safetensors: sha256/);
  assert.match(report, /data-testid="failed-count">1 failed</);
  assert.deepEqual(partial.mapPaths.map((p) => p.split('/').pop()), ['A1_B1.html']);

  const status = spawnUfg(['sweep', 'status', workflowId], { TEMPORAL_ADDRESS: env.server.address });
  assert.equal(await status.exited, 3, status.output());
  assert.match(status.output(), /partial: 1 of 2 layer pairs \(1 failed\)/);
  assert.match(status.output(), /failed: {2}A1 ↔ B2 .*changed since this sweep registered it/);

  // Fix the input, then resume: only A1↔B2 runs.
  writeFileSync(weights, original);
  const finishedChild = await env.client.workflow.getHandle(`${workflowId}.pair-A1-B1`).describe();
  const before = new Set(await env.store.list());
  const resume = spawnUfg(['sweep', 'resume', workflowId], { TEMPORAL_ADDRESS: env.server.address });
  assert.equal(await resume.exited, 0, resume.output());
  assert.match(resume.output(), /resumed sweep \S+ \(1 finished layer pairs handed over\)/);
  assert.match(resume.output(), /resumed: 1 finished layer pair taken over from the earlier run, 1 run/);
  const outcome = (await handle.result()) as SweepOutcome;
  assert.equal(outcome.layerPairs, 2);
  assert.deepEqual(outcome.failed, []);
  assert.deepEqual([outcome.carriedOver, outcome.ran], [1, 1]);
  const added = (await env.store.list()).filter((id) => !before.has(id));
  assert.deepEqual(added.map((id) => id.replace(/-[0-9a-f]{16}$/, '')).sort(), ['category-pairs', 'pair', 'report', 'results', 'similarity', 'subspace', 'umap']);
  assert.equal(outcome.produced, added.length, 'computed exactly the artifacts new in the store');
  const again = await env.client.workflow.getHandle(`${workflowId}.pair-A1-B1`).describe();
  assert.equal(again.runId, finishedChild.runId, 'the finished pair was not run again');
  const fullTable = await readParquetTable(outcome.resultsPath);
  assert.deepEqual([...new Set(fullTable.columns.layer_b!)].sort(), [1, 2]);
  assert.doesNotMatch(readFileSync(outcome.reportPath, 'utf8'), /data-failed="1"/);
  t.diagnostic(`resume: ${outcome.carriedOver} pair taken over, ${outcome.ran} run, artifacts computed: ${added.join(', ')}`);
});
