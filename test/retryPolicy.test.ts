// The activity options a sweep schedules with (workflows/options.ts): every activity on the queue
// whose workers serve it, infrastructure failures retried without an attempt limit under a
// schedule-to-close budget that rides out hours of outage and still fits a two-day sweep, and
// bad input never retried.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createActivities, GPU_ACTIVITIES, type Activities } from '../activities/index.ts';
import { openStore } from '../storage/store.ts';
import { activityOptions, CPU_QUEUE, GPU_QUEUE } from '../workflows/options.ts';

const HOUR = 3_600_000;
function ms(d: unknown): number {
  const m = /^(\d+)(s|m|h)$/.exec(String(d));
  assert.ok(m, `a duration like 5m: ${String(d)}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: HOUR }[m[2] as 's' | 'm' | 'h'];
}

const dir = mkdtempSync(join(tmpdir(), 'ufg-retry-'));
const names = Object.keys(createActivities({ store: openStore(dir) })) as (keyof Activities)[];
rmSync(dir, { recursive: true, force: true });

test('every activity is scheduled on the queue that serves it', () => {
  for (const name of names) {
    const expected = (GPU_ACTIVITIES as readonly string[]).includes(name) ? GPU_QUEUE : CPU_QUEUE;
    assert.equal(activityOptions(name, 30).taskQueue, expected, name);
  }
});

test('retries: no attempt limit, backoff from 1 s capped at 5 min, bad input never retried', () => {
  for (const name of names) {
    const { retry } = activityOptions(name, 30);
    assert.equal(retry?.maximumAttempts, Number.POSITIVE_INFINITY, name);
    assert.equal(ms(retry?.initialInterval), 1000);
    assert.equal(ms(retry?.maximumInterval), 5 * 60_000);
    assert.deepEqual(retry?.nonRetryableErrorTypes, ['UserInputError']);
  }
});

test('budgets: each kind rides out at least 12 hours of outage and ends within two days', () => {
  for (const name of names) {
    const o = activityOptions(name, 30);
    const budget = ms(o.scheduleToCloseTimeout);
    assert.ok(budget >= 12 * HOUR && budget <= 48 * HOUR, `${name}: schedule-to-close ${o.scheduleToCloseTimeout}`);
    assert.ok(ms(o.startToCloseTimeout) < budget, `${name}: one attempt leaves room for retries`);
    // A dead worker is noticed after the config's heartbeat timeout.
    assert.equal(ms(o.heartbeatTimeout), 30 * 1000, name);
    // cpu work: at least 15 s, room for a few seconds of plain JS on the activity's thread.
    assert.equal(ms(activityOptions(name, 3).heartbeatTimeout), (o.taskQueue === GPU_QUEUE ? 3 : 15) * 1000, name);
  }
  assert.equal(activityOptions('extract', 600).heartbeatTimeout, '600s');
});
