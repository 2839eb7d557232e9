// kill -9 of the worker in the middle of extraction: a new worker finishes the sweep, the results
// equal those of an uninterrupted run, and each extraction resumed from the chunks the dead
// worker had persisted (its manifest records resumedFromChunk > 0 and both attempts), not from zero.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import type { AttemptRecord, Manifest } from '../../storage/manifest.ts';
import { prepWorkflowId } from '../../workflows/index.ts';
import { waitFor } from './harness.ts';
import { assertSameResults, committedArtifacts, extractionStaging, readManifestJson, readResultRows, scenarioSuite } from './sweepScenario.ts';

const suite = scenarioSuite('ufg-kill9-');

test('kill -9 of the worker mid-extraction: a new worker finishes from the persisted chunks, results identical', async (t) => {
  const { conn, scenario, baseline } = suite;
  const storeRoot = join(suite.dir, 'store');
  const first = await suite.startWorker(storeRoot);
  const { workflowId } = await startSweep(conn.client, scenario.config);

  // Both models are extracting (the only activities in flight) and each has persisted ≥ 2 chunks.
  await waitFor(
    'both extractions to persist chunks',
    () => {
      const st = extractionStaging(storeRoot);
      return st.length === 2 && st.every((s) => s.chunks >= 2 && !s.done) && st;
    },
    { timeoutMs: 180_000, intervalMs: 25 },
  );
  first.kill9();
  assert.equal(await first.exited, 'SIGKILL');
  const atKill = extractionStaging(storeRoot);
  assert.equal(atKill.length, 2);
  assert.ok(!committedArtifacts(storeRoot).some((id) => id.startsWith('extract-')), 'no extraction was complete when the worker died');
  // (Describe, not the progress query: with no worker alive nobody answers queries.)
  const pending: string[] = [];
  for (const id of [workflowId, prepWorkflowId(workflowId, 'a'), prepWorkflowId(workflowId, 'b')]) {
    const d = await conn.client.workflow.getHandle(id).describe();
    assert.equal(d.status.name, 'RUNNING', id);
    pending.push(...(d.raw.pendingActivities ?? []).map((a) => `${id.split('.').pop()}:${a.activityType?.name}`));
  }
  assert.deepEqual(pending.sort(), ['prep-a:extract', 'prep-b:extract'], 'only the extractions were in flight');

  const second = await suite.startWorker(storeRoot);
  const outcome = await waitForSweep(conn.client, workflowId);
  const deviation = assertSameResults(await readResultRows(outcome.resultsPath), baseline.rows, 'after kill -9');
  t.diagnostic(`results equal the uninterrupted run's (largest relative float difference ${deviation.toExponential(1)})`);

  for (const { id, chunks } of atKill) {
    const m = readManifestJson<Manifest & { attempts: AttemptRecord[] }>(storeRoot, id);
    assert.ok(m.resumedFromChunk !== undefined && m.resumedFromChunk >= chunks, `${id}: resumed from chunk ${m.resumedFromChunk}, ${chunks} were persisted at the kill`);
    assert.equal(m.counts.computedChunks, m.counts.chunks! - m.resumedFromChunk!, `${id}: only the missing chunks were computed`);
    assert.ok((m.producer.attempt ?? 0) >= 2, `${id}: committed by attempt ${m.producer.attempt}`);
    assert.equal(m.attempts[0]!.producer.pid, first.pid, `${id}: the first attempt ran in the killed worker`);
    assert.equal(m.attempts.at(-1)!.producer.pid, second.pid, `${id}: the last attempt ran in the new worker`);
    assert.ok(m.attempts.at(-1)!.carriedFiles >= chunks, `${id}: the last attempt found the persisted chunks`);
  }
  assert.ok(outcome.resumedFromChunk.a > 0 && outcome.resumedFromChunk.b > 0, `sweep outcome: ${JSON.stringify(outcome.resumedFromChunk)}`);
  t.diagnostic(`kill -9 at chunks ${atKill.map((s) => s.chunks).join(', ')}; resumed from ${JSON.stringify(outcome.resumedFromChunk)}; baseline ${baseline.computed ? 'computed' : 'cached'}`);
});
