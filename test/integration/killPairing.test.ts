// kill -9 of the worker in the middle of a long pairing: the retry resumes from the pairing's last
// checkpoint (its manifest says where), and the results equal those of an uninterrupted run.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { demoConfig, type SweepConfig } from '../../pipelines/config.ts';
import type { Manifest } from '../../storage/manifest.ts';
import { writeWideSae } from '../fixtures/wideSae.ts';
import { assertSameResults, committedArtifacts, readManifestJson, readResultRows } from './sweepScenario.ts';
import { serverSuite, waitFor } from './harness.ts';

const FEATURES = 4096;
// Rows of 1024 A features (8 rows) and a checkpoint whenever a second has passed.
const WORKER_ENV = { UFG_MEMORY_BUDGET_MB: '64', UFG_CHECKPOINT_SECONDS: '1' };
const suite = serverSuite('ufg-kill-pair-');
const startWorker = (storeRoot: string) => suite.startWorker(storeRoot, WORKER_ENV);

/** Checkpoint files of pairings in progress, anywhere under the store's staging area. */
function checkpoints(storeRoot: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name === 'pairing.checkpoint') out.push(join(dir, e.name));
    }
  };
  walk(join(storeRoot, '.staging'));
  return out;
}

test('kill -9 mid-pairing: the retry resumes from the last checkpoint, results identical', async (t) => {
  const fixtures = await ensureDemoFixtures();
  writeWideSae(join(suite.dir, 'saes-a'), 'sparsify', 64, FEATURES, 3);
  writeWideSae(join(suite.dir, 'saes-b'), 'saelens', 96, FEATURES, 4);
  const config: SweepConfig = structuredClone(demoConfig(fixtures, join(suite.dir, 'out')));
  config.models.a = { ...config.models.a, sae: join(suite.dir, 'saes-a'), layers: [1] };
  config.models.b = { ...config.models.b, sae: join(suite.dir, 'saes-b'), layers: [1] };
  config.similarity = { ...config.similarity, permutations: 20 };
  config.orchestration = { ...config.orchestration, heartbeatTimeoutSeconds: 5 };

  // The uninterrupted run, in its own store.
  const baselineStore = join(suite.dir, 'baseline-store');
  const solo = await startWorker(baselineStore);
  const base = await waitForSweep(suite.conn.client, (await startSweep(suite.conn.client, { ...config, outDir: join(suite.dir, 'baseline-out') })).workflowId);
  await solo.stop();

  const storeRoot = join(suite.dir, 'store');
  const first = await startWorker(storeRoot);
  const { workflowId } = await startSweep(suite.conn.client, config);
  await waitFor('a pairing checkpoint', () => checkpoints(storeRoot).length > 0, { timeoutMs: 600_000, intervalMs: 50 });
  first.kill9();
  assert.equal(await first.exited, 'SIGKILL');
  assert.ok(!committedArtifacts(storeRoot).some((id) => id.startsWith('pair-')), 'the pairing was not finished at the kill');

  const second = await startWorker(storeRoot);
  const outcome = await waitForSweep(suite.conn.client, workflowId);
  const deviation = assertSameResults(await readResultRows(outcome.resultsPath), await readResultRows(base.resultsPath), 'after kill -9 mid-pairing');

  const pairId = committedArtifacts(storeRoot).find((id) => id.startsWith('pair-'))!;
  const m = readManifestJson<Manifest>(storeRoot, pairId);
  assert.ok(m.resumedFrom && m.resumedFrom.unit === 'row chunk passes' && m.resumedFrom.done > 0 && m.resumedFrom.done < m.resumedFrom.total, `resumed from ${JSON.stringify(m.resumedFrom)}`);
  assert.ok((m.producer.attempt ?? 0) >= 2, `committed by attempt ${m.producer.attempt}`);
  assert.equal(m.producer.pid, second.pid);
  assert.ok(!m.files.some((f) => f.name === 'pairing.checkpoint'), 'the checkpoint is not part of the artifact');
  t.diagnostic(`resumed at ${m.resumedFrom!.done}/${m.resumedFrom!.total} row chunk passes; results equal the uninterrupted run's (largest relative difference ${deviation.toExponential(1)})`);
});
