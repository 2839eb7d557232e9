import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateRemainingMs, formatDuration, ProgressBar } from '../pipelines/render/progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, columns: 100, write: (s: string) => chunks.push(s), chunks };
}

test('formatDuration and ETA', () => {
  assert.equal(formatDuration(42_400), '42s');
  assert.equal(formatDuration(125_000), '2m05s');
  assert.equal(formatDuration(3 * 3600_000 + 7 * 60_000), '3h07m');
  assert.equal(formatDuration(NaN), '--');
  assert.equal(estimateRemainingMs(0, 10, 1000), undefined);
  assert.equal(estimateRemainingMs(2, 10, 1000), 4000);
  assert.equal(estimateRemainingMs(10, 10, 1000), 0);
});

test('non-TTY: plain lines, throttled, always the last one', () => {
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
  assert.deepEqual(s.chunks, [
    'pairing: 1/4 (25%) ETA 0s\n',
    'pairing: 3/4 (75%) ETA 1s\n',
    'pairing: 4/4 (100%) done in 2s\n',
  ]);
});

test('TTY: one redrawn bar line with ETA, newline at the end', () => {
  let t = 0;
  const s = sink(true);
  const bar = new ProgressBar('similarity', 10, { stream: s, now: () => t, width: 10 });
  t = 30_000;
  bar.update(3);
  assert.equal(s.chunks[0], '\r\x1b[2Ksimilarity [###-------] 3/10 (30%) ETA 1m10s');
  t = 100_000;
  bar.update(10);
  assert.equal(s.chunks[1], '\r\x1b[2Ksimilarity [##########] 10/10 (100%) done in 1m40s');
  assert.equal(s.chunks[2], '\n');
  assert.equal(s.chunks.length, 3);
});
