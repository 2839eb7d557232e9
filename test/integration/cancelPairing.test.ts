// Cancelling a sweep while a long pairing runs: the worker stops computing within seconds (its
// CPU falls back to idle) and the pairing never commits an artifact, even later.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { cancelSweep, startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { demoConfig, type SweepConfig } from '../../pipelines/config.ts';
import { writeWideSae } from '../fixtures/wideSae.ts';
import { pairWorkflowId } from '../../workflows/index.ts';
import { committedArtifacts } from './sweepScenario.ts';
import { serverSuite, sleep, waitFor } from './harness.ts';

const FEATURES = 16_384;
const suite = serverSuite('ufg-cancel-pair-');

/** CPU seconds a process (all its threads) has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
}

test('cancel during pairing: the worker is idle again within 10 s and no pairing artifact appears later', async (t) => {
  const fixtures = await ensureDemoFixtures();
  writeWideSae(join(suite.dir, 'saes-a'), 'sparsify', 64, FEATURES, 1);
  writeWideSae(join(suite.dir, 'saes-b'), 'saelens', 96, FEATURES, 2);
  const config: SweepConfig = structuredClone(demoConfig(fixtures, join(suite.dir, 'out')));
  config.models.a = { ...config.models.a, sae: join(suite.dir, 'saes-a'), layers: [1] };
  config.models.b = { ...config.models.b, sae: join(suite.dir, 'saes-b'), layers: [1] };
  config.orchestration = { ...config.orchestration, heartbeatTimeoutSeconds: 4 };
  const storeRoot = join(suite.dir, 'store');
  const worker = await suite.startWorker(storeRoot);

  const started = Date.now();
  const { workflowId } = await startSweep(suite.conn.client, config);
  const pairWf = pairWorkflowId(workflowId, 1, 1);
  await waitFor(
    'the pairing activity to run',
    async () => {
      try {
        const d = await suite.conn.client.workflow.getHandle(pairWf).describe();
        return (d.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'pairLayer' && !!a.lastStartedTime);
      } catch {
        return false;
      }
    },
    { timeoutMs: 600_000, intervalMs: 200 },
  );
  const toPairing = (Date.now() - started) / 1000;
  // Busy: the pairing uses the cores.
  const c0 = cpuSeconds(worker.pid);
  await sleep(2000);
  const busy = (cpuSeconds(worker.pid) - c0) / 2;
  assert.ok(busy > 0.3, `the worker computes while pairing: ${busy.toFixed(2)} cores`);

  const cancelledAt = Date.now();
  await cancelSweep(suite.conn.client, workflowId);
  await assert.rejects(waitForSweep(suite.conn.client, workflowId));
  // Idle: under 10% of a core over a 1 s window, within 10 s of the cancellation.
  let idleAfter: number | undefined;
  while (Date.now() - cancelledAt < 15_000) {
    const c = cpuSeconds(worker.pid);
    await sleep(1000);
    if (cpuSeconds(worker.pid) - c < 0.1) {
      idleAfter = (Date.now() - cancelledAt) / 1000;
      break;
    }
  }
  assert.ok(idleAfter !== undefined && idleAfter <= 10, `the worker was idle ${idleAfter ?? 'never (15 s)'} s after the cancellation`);
  // Long enough for an abandoned computation to have finished and committed, had it gone on.
  await sleep(8000);
  const pairs = committedArtifacts(storeRoot).filter((id) => id.startsWith('pair-'));
  assert.deepEqual(pairs, [], 'no pairing artifact was committed');
  const staging = join(storeRoot, '.staging');
  const staged = readdirSync(staging).filter((n) => n.startsWith('pair-'));
  t.diagnostic(`pairing started ${toPairing.toFixed(0)} s after the sweep; busy ${busy.toFixed(2)} cores while pairing ${FEATURES}×${FEATURES}; idle ${idleAfter} s after cancel; pair staging folders left: ${staged.length}`);
});
