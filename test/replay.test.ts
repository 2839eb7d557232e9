// Every recorded history under test/histories replays against today's workflow code (the SDK's
// replay worker, the bundle real workers run). A change to workflows/ that would give running
// sweeps a non-determinism error — commands reordered, added or removed without a `patched()`
// branch (docs/temporal.md → "Changing a workflow") — fails here. The recordings must keep
// covering what a real sweep does: continue-as-new, child workflows, a retried activity, a
// failed layer pair, a resume that takes finished pairs over, a cancellation, the selection null
// and the layer correspondence.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from '../worker/bundle.ts';
import { HISTORIES_DIR, historyOf, type RecordedHistory } from './histories/record.ts';

interface Recording extends RecordedHistory {
  file: string;
  events: { eventType?: string; [attributes: string]: unknown }[];
}

/** Every recording under test/histories, at any depth (kept recordings of older workflow versions included). */
function recordings(dir = HISTORIES_DIR, prefix = ''): Recording[] {
  const out: Recording[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
    const file = `${prefix}${entry.name}`;
    if (entry.isDirectory()) out.push(...recordings(join(dir, entry.name), `${file}/`));
    else if (entry.name.endsWith('.json')) {
      const r = JSON.parse(readFileSync(join(dir, entry.name), 'utf8')) as RecordedHistory;
      out.push({ ...r, file, events: (r.history.events ?? []) as Recording['events'] });
    }
  }
  return out;
}

// The replay workers' state changes are noise here; a non-determinism error is in the result.
Runtime.install({ logger: new DefaultLogger('WARN') });

const all = recordings();
const has = (r: Recording, type: string) => r.events.some((e) => e.eventType === `EVENT_TYPE_${type}`);

test('the recordings cover continue-as-new, children, a retry, a failed pair, a resume, a cancellation, the selection null, the layer correspondence and the N-model path', () => {
  const sweeps = all.filter((r) => r.workflowType === 'sweepWorkflow');
  assert.ok(sweeps.some((r) => has(r, 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW')), 'a sweep run that continued as new');
  for (const type of ['modelPrepWorkflow', 'layerPairWorkflow']) assert.ok(all.some((r) => r.workflowType === type), `a ${type} run`);
  const retried = all.flatMap((r) => r.events).some((e) => ((e.activityTaskStartedEventAttributes as { attempt?: number } | undefined)?.attempt ?? 1) >= 2);
  assert.ok(retried, 'an activity that succeeded on a later attempt');
  assert.ok(sweeps.some((r) => has(r, 'CHILD_WORKFLOW_EXECUTION_FAILED') && has(r, 'WORKFLOW_EXECUTION_COMPLETED')), 'a sweep that completed with a failed layer pair');
  const tookOver = sweeps.some((r) =>
    r.events.some((e) => (e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined)?.activityType?.name === 'findFinishedPairs'),
  );
  assert.ok(tookOver, 'a resumed sweep that took finished pairs over');
  assert.ok(sweeps.some((r) => has(r, 'WORKFLOW_EXECUTION_CANCELED')), 'a cancelled sweep');
  const scheduled = (r: Recording) => r.events.map((e) => (e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined)?.activityType?.name);
  assert.ok(
    all.some((r) => r.workflowType === 'layerPairWorkflow' && scheduled(r).includes('pairShift') && scheduled(r).includes('scoreSelectionNull')),
    'a layer pair that ran the selection null (patch selection-null)',
  );
  assert.ok(all.some((r) => r.workflowType === 'layerPairWorkflow' && scheduled(r).includes('bootstrapLayerPair')), 'a layer pair that ran the bootstrap (patch layer-correspondence)');
  assert.ok(sweeps.some((r) => scheduled(r).includes('layerCorrespondence')), 'a sweep that wrote the layer correspondence (patch layer-correspondence)');
  // The N-model path: its patch marker, the floor's random-init activity, and no marker in any
  // two-model sweep (whose commands are the ones they were before N models).
  type Marker = { markerName?: string; details?: { 'patch-data'?: { payloads?: { data?: string }[] } } };
  const patchIds = (r: Recording) =>
    r.events.flatMap((e) => {
      const m = e.markerRecordedEventAttributes as Marker | undefined;
      if (m?.markerName !== 'core_patch') return [];
      return (m.details?.['patch-data']?.payloads ?? []).map((p) => (JSON.parse(Buffer.from(p.data ?? '', 'base64').toString('utf8')) as { id: string }).id);
    });
  const marked = (r: Recording) => patchIds(r).includes('n-models');
  const nModel = sweeps.filter(marked);
  assert.ok(nModel.length > 0, 'an N-model sweep run (patch n-models)');
  assert.ok(
    nModel.some((r) => r.events.some((e) => (e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined)?.activityType?.name === 'randomInitModel')),
    "an N-model sweep that made the floor's random-init copy",
  );
  assert.ok(sweeps.filter((r) => !r.file.startsWith('n-models/')).every((r) => !marked(r)), 'two-model sweeps record no n-models marker');
});

test('every recorded history replays against the current workflow code without a non-determinism error', async (t) => {
  assert.ok(all.length >= 10, `${all.length} recordings`);
  const byRun = new Map(all.map((r) => [r.runId, r.file]));
  const replays = Worker.runReplayHistories(
    { workflowBundle: await workflowBundle(), replayName: 'ufg-replay-test' },
    all.map((r) => ({ workflowId: r.workflowId, history: historyOf(r) })),
  );
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of replays) {
    replayed++;
    if (result.error) failures.push(`${byRun.get(result.runId) ?? result.runId}: ${result.error.name}: ${result.error.message}`);
  }
  assert.equal(replayed, all.length);
  assert.ok(failures.length === 0, `histories that no longer replay (see docs/temporal.md → "Changing a workflow"):\n${failures.join('\n')}`);
  t.diagnostic(`${replayed} histories replayed`);
});
