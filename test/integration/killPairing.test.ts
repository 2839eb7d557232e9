// kill -9 of the worker in the middle of a long pairing: the retry resumes from the pairing's last
// checkpoint (its manifest says where), and the results equal those of an uninterrupted run.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { connectClient, type ConnectedClient, type DevServer } from '../../cli/temporal/index.ts';
import { demoConfig, type SweepConfig } from '../../pipelines/config.ts';
import type { Manifest } from '../../storage/manifest.ts';
import { writeWideSae } from '../fixtures/wideSae.ts';
import { assertSameResults, committedArtifacts, readManifestJson, readResultRows } from './sweepScenario.ts';
import { spawnWorker, startTestServer, tempDir, waitFor, type UfgProcess } from './harness.ts';

const FEATURES = 4096;
// Rows of 1024 A features (8 rows) and a checkpoint whenever a second has passed.
const WORKER_ENV = { UFG_MEMORY_BUDGET_MB: '64', UFG_CHECKPOINT_SECONDS: '1' };
const tmp = tempDir('ufg-kill-pair-');
let server: DevServer;
let conn: ConnectedClient;
const workers: UfgProcess[] = [];

before(async () => {
  server = await startTestServer(join(tmp.dir, 'temporal'));
  conn = await connectClient({ address: server.address, namespace: server.namespace });
});
after(async () => {
  for (const w of workers) await w.stop();
  await conn?.connection.close();
  await server?.stop();
  tmp.cleanup();
});

async function startWorker(storeRoot: string): Promise<UfgProcess> {
  const w = spawnWorker(server.address, storeRoot, [], WORKER_ENV);
  workers.push(w);
  await waitFor('the worker to poll', () => /ufg worker: serving/.test(w.output()), { timeoutMs: 180_000 });
  return w;
}

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
  writeWideSae(join(tmp.dir, 'saes-a'), 'sparsify', 64, FEATURES, 3);
  writeWideSae(join(tmp.dir, 'saes-b'), 'saelens', 96, FEATURES, 4);
  const config: SweepConfig = structuredClone(demoConfig(fixtures, join(tmp.dir, 'out')));
  config.models.a = { ...config.models.a, sae: join(tmp.dir, 'saes-a'), layers: [1] };
  config.models.b = { ...config.models.b, sae: join(tmp.dir, 'saes-b'), layers: [1] };
  config.similarity = { ...config.similarity, permutations: 20 };
  config.orchestration = { ...config.orchestration, heartbeatTimeoutSeconds: 5 };

  // The uninterrupted run, in its own store.
  const baselineStore = join(tmp.dir, 'baseline-store');
  const solo = await startWorker(baselineStore);
  const base = await waitForSweep(conn.client, (await startSweep(conn.client, { ...config, outDir: join(tmp.dir, 'baseline-out') })).workflowId);
  await solo.stop();

  const storeRoot = join(tmp.dir, 'store');
  const first = await startWorker(storeRoot);
  const { workflowId } = await startSweep(conn.client, config);
  await waitFor('a pairing checkpoint', () => checkpoints(storeRoot).length > 0, { timeoutMs: 600_000, intervalMs: 50 });
  first.kill9();
  assert.equal(await first.exited, 'SIGKILL');
  assert.ok(!committedArtifacts(storeRoot).some((id) => id.startsWith('pair-')), 'the pairing was not finished at the kill');

  const second = await startWorker(storeRoot);
  const outcome = await waitForSweep(conn.client, workflowId);
  const deviation = assertSameResults(await readResultRows(outcome.resultsPath), await readResultRows(base.resultsPath), 'after kill -9 mid-pairing');

  const pairId = committedArtifacts(storeRoot).find((id) => id.startsWith('pair-'))!;
  const m = readManifestJson<Manifest>(storeRoot, pairId);
  assert.ok(m.resumedFrom && m.resumedFrom.unit === 'row chunk passes' && m.resumedFrom.done > 0 && m.resumedFrom.done < m.resumedFrom.total, `resumed from ${JSON.stringify(m.resumedFrom)}`);
  assert.ok((m.producer.attempt ?? 0) >= 2, `committed by attempt ${m.producer.attempt}`);
  assert.equal(m.producer.pid, second.pid);
  assert.ok(!m.files.some((f) => f.name === 'pairing.checkpoint'), 'the checkpoint is not part of the artifact');
  t.diagnostic(`resumed at ${m.resumedFrom!.done}/${m.resumedFrom!.total} row chunk passes; results equal the uninterrupted run's (largest relative difference ${deviation.toExponential(1)})`);
});
