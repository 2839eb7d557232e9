// Terminate the sweep workflow half-way (both models prepared, the layer pair not done), then
// `ufg sweep resume <id>`: every artifact finished before the termination is reused untouched (its manifest still names the first run), only the
// missing work is computed, the resume says how much it reused, and the results equal those of an
// uninterrupted run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSweep } from '../../cli/sweepClient.ts';
import { sweepProgressQuery, type SweepOutcome } from '../../workflows/index.ts';
import { spawnUfg, waitFor } from './harness.ts';
import { assertSameResults, committedArtifacts, readResultRows, scenarioSuite } from './sweepScenario.ts';

const suite = scenarioSuite('ufg-resume-');

test('terminate half-way, then ufg sweep resume: finished artifacts reused untouched, only the rest computed, same results', async (t) => {
  const { conn, scenario, baseline } = suite;
  const storeRoot = join(suite.dir, 'store');
  await suite.startWorker(storeRoot);
  const { workflowId } = await startSweep(conn.client, scenario.config);
  const handle = conn.client.workflow.getHandle(workflowId);
  const firstRunId = (await handle.describe()).runId;

  await waitFor('both models to be prepared', async () => {
    const p = await handle.query(sweepProgressQuery);
    return p.stage === 'pairs' && p.prep.a.status === 'done' && p.prep.b.status === 'done';
  }, { timeoutMs: 300_000, intervalMs: 100 });
  await handle.terminate('integration test: terminated half-way');
  const before = new Map(committedArtifacts(storeRoot).map((id) => [id, readFileSync(join(storeRoot, id, 'manifest.json'), 'utf8')]));
  const done = [...before.keys()];
  for (const stage of ['source', 'tokenize', 'extract', 'sae']) assert.ok(done.some((id) => id.startsWith(`${stage}-`)), `a ${stage} artifact was done`);
  assert.ok(!done.some((id) => /^(umap|results|report)-/.test(id)), 'the pair, results and report were not');

  const resume = spawnUfg(['sweep', 'resume', workflowId], { TEMPORAL_ADDRESS: suite.server.address });
  assert.equal(await resume.exited, 0, resume.output());
  const m = /artifacts: (\d+) reused, (\d+) computed/.exec(resume.output());
  assert.ok(m, `resume reports its reuse:\n${resume.output()}`);
  const [reused, produced] = [Number(m[1]), Number(m[2])];
  const outcome = (await handle.result()) as SweepOutcome;
  assert.notEqual((await handle.describe()).runId, firstRunId, 'a new run of the same sweep id');
  assert.deepEqual([outcome.reused, outcome.produced], [reused, produced]);

  const deviation = assertSameResults(await readResultRows(outcome.resultsPath), baseline.rows, 'after terminate + resume');
  t.diagnostic(`results equal the uninterrupted run's (largest relative float difference ${deviation.toExponential(1)})`);
  // Every artifact finished before the termination is untouched (same manifest: same producer run).
  for (const [id, manifest] of before) assert.equal(readFileSync(join(storeRoot, id, 'manifest.json'), 'utf8'), manifest, `${id} was not recomputed`);
  const afterIds = committedArtifacts(storeRoot);
  const added = afterIds.length - before.size;
  assert.ok(reused >= before.size, `reused ${reused} ≥ the ${before.size} artifacts finished before the termination`);
  assert.ok(produced >= 1 && produced <= added, `computed ${produced}: only missing artifacts (${added} new in the store)`);
  const total = baseline.outcome.reused + baseline.outcome.produced;
  assert.equal(reused + produced, total, 'every artifact of the sweep was either reused or computed, once');
  t.diagnostic(`terminated with ${before.size} artifacts done; resume reused ${reused}, computed ${produced} (of ${total})`);
});
