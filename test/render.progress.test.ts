import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatEta, ProgressBar, Throughput } from '../pipelines/render/progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, columns: 100, write: (s: string) => chunks.push(s), chunks };
}

test('formatDuration, and an ETA is never 0s while work is left', () => {
  assert.equal(formatDuration(42_400), '42s');
  assert.equal(formatDuration(125_000), '2m05s');
  assert.equal(formatDuration(3 * 3600_000 + 7 * 60_000), '3h07m');
  assert.equal(formatDuration(NaN), '--');
  assert.equal(formatEta(undefined), '--');
  assert.equal(formatEta(120), '1s');
  assert.equal(formatEta(0.001), '1s');
  assert.equal(formatEta(90_000), '1m30s');
});

test('throughput: unknown until progress spans the minimum, then the recent window’s rate', () => {
  const tp = new Throughput(10_000, 2_000);
  tp.add(0, 0);
  assert.equal(tp.rate(), undefined);
  tp.add(1_000, 10);
  assert.equal(tp.rate(), undefined, 'one second is below the 2 s minimum span');
  tp.add(2_000, 20);
  assert.equal(tp.rate(), 0.01);
  assert.equal(tp.remainingMs(120), 10_000);
  // The rate quadruples: after a window's length at the new rate, the ETA follows it, not the average.
  for (let t = 3_000; t <= 20_000; t += 1_000) tp.add(t, 20 + ((t - 2_000) / 1_000) * 40);
  const done = 20 + 18 * 40;
  assert.equal(tp.rate(), 0.04);
  assert.equal(tp.remainingMs(done + 400), 10_000);
  assert.equal(tp.remainingMs(done), 0);
  // A stretch without progress longer than the window: the whole run's average, not "unknown" or infinity.
  tp.add(40_000, done);
  assert.equal(tp.rate(), done / 40_000);
});

test('throughput: on a long run the window is a fraction of the time measured, and samples stay bounded', () => {
  const fixed = new Throughput(10_000, 1_000, 0);
  const adaptive = new Throughput(10_000, 1_000, 0.5);
  // 1 unit/s for 100 s, then 3 units/s for 20 s, sampled every 100 ms.
  for (let t = 0; t <= 120_000; t += 100) {
    const done = t <= 100_000 ? t / 1000 : 100 + (3 * (t - 100_000)) / 1000;
    fixed.add(t, done);
    adaptive.add(t, done);
  }
  assert.ok(Math.abs(fixed.rate()! * 1000 - 3) < 1e-9, 'the last 10 s only');
  // Window 60 s (half of 120 s): from t = 60 s, 40 units at 1/s and 60 at 3/s.
  assert.ok(Math.abs(adaptive.rate()! * 1000 - 100 / 60) < 0.05, `${adaptive.rate()! * 1000}`);
  assert.ok(adaptive.sampleCount <= 70, `about one sample a second in the 60 s window, not 600: ${adaptive.sampleCount}`);
});

test('the bar: fraction of work, never moving back when the total is revised, ETA from measured throughput', () => {
  let t = 0;
  const s = sink(false);
  const bar = new ProgressBar('sweep', 100, { stream: s, now: () => t, plainEveryMs: 0, counts: false, minSpanMs: 1_000, windowMs: 5_000 });
  bar.update(0);
  t = 500;
  bar.update(5);
  assert.equal(s.chunks.at(-1), 'sweep: 5% ETA --\n', 'no ETA before the minimum span');
  t = 1_000;
  bar.update(10);
  assert.equal(s.chunks.at(-1), 'sweep: 10% ETA 9s\n', '10 units/s measured, 90 left');
  // The estimate of the whole grows to 200: the bar keeps showing 10%, not 5%.
  t = 2_000;
  bar.update(12, { total: 200, label: 'sweep pairs', detail: 'pairLayer A1↔B1 3/8 block pairs' });
  assert.equal(bar.fraction(), 0.1);
  assert.match(s.chunks.at(-1)!, /^sweep pairs: 10% ETA -- · pairLayer A1↔B1 3\/8 block pairs\n$/);
  // Work done below what is shown does not pull it back either.
  t = 3_000;
  bar.update(15);
  assert.equal(bar.fraction(), 0.1);
  t = 4_000;
  bar.update(40);
  assert.equal(bar.fraction(), 0.2);
  assert.equal(s.chunks.at(-1), 'sweep pairs: 20% ETA 16s · pairLayer A1↔B1 3/8 block pairs\n', '10 units/s since the revision, 160 left');
  t = 10_000;
  bar.update(200);
  assert.equal(s.chunks.at(-1), 'sweep pairs: 100% done in 10s\n');
  bar.update(300);
  assert.equal(s.chunks.length, 6, 'an unchanged line is not repeated, nothing after the end');
});

test('non-TTY: plain lines throttled, repeated lines left out, the last one always', () => {
  let t = 0;
  const s = sink(false);
  const bar = new ProgressBar('pairing', 4, { stream: s, now: () => t, plainEveryMs: 1000 });
  t = 100;
  bar.tick(); // first line always printed
  t = 200;
  bar.tick(); // throttled
  t = 1500;
  bar.tick();
  t = 1600;
  bar.tick(); // the last one
  bar.tick(); // after finish: ignored
  assert.deepEqual(s.chunks, ['pairing: 1/4 (25%) ETA --\n', 'pairing: 3/4 (75%) ETA --\n', 'pairing: 4/4 (100%) done in 2s\n']);
});

test('TTY: one redrawn bar line, lines printed above it, newline at the end', () => {
  let t = 0;
  const s = sink(true);
  const bar = new ProgressBar('similarity', 10, { stream: s, now: () => t, width: 10 });
  bar.update(0);
  t = 30_000;
  bar.update(3);
  assert.equal(s.chunks[1], '\r\x1b[2Ksimilarity [###-------] 3/10 (30%) ETA 1m10s');
  bar.printAbove('warning: something');
  assert.equal(s.chunks[2], '\r\x1b[2Kwarning: something\n');
  t = 100_000;
  bar.update(10);
  assert.equal(s.chunks[3], '\r\x1b[2Ksimilarity [##########] 10/10 (100%) done in 1m40s');
  assert.equal(s.chunks[4], '\n');
  assert.equal(s.chunks.length, 5);
});

test('TTY: a line wider than the terminal is cut to its width (a wrapped line would not redraw in place)', () => {
  const s = { ...sink(true), columns: 70 };
  const bar = new ProgressBar('sweep pairs (pairs 3/30, 1 failed)', 100, { stream: s, counts: false });
  bar.update(40, { detail: 'analyseSubspaces A12↔B11 3/8 categories' });
  const line = s.chunks[0]!.replace('\r\x1b[2K', '');
  assert.equal([...line].length, 69);
  assert.match(line, /^sweep pairs \(pairs 3\/30, 1 failed\) \[####------\] 40% ETA -- · anal.*…$/);
});
