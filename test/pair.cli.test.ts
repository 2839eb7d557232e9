// `ufg pair` end to end: real .npy files, a spawned CLI process, JSON out, clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairingCases, toMat } from './reference.ts';
import { assertUsageError, runUfg, scratchNpy } from './cliRun.ts';

const cases = pairingCases();

const { dir, npy } = scratchNpy('ufg-pair-cli-');
const ufg = (...args: string[]) => runUfg('pair', ...args);

interface PairJson {
  method: string;
  aForEachB: number[];
  corrForEachB: (number | null)[];
  bForEachA: number[];
  corrForEachA: (number | null)[];
  total?: number;
}

test('greedy --compat reference reproduces the original argmax and max correlation', async () => {
  const c = cases[0]!;
  const a = await npy('g_a.npy', toMat(c.A)), b = await npy('g_b.npy', toMat(c.B));
  const r = ufg('--a', a, '--b', b, '--compat', 'reference', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as PairJson;
  assert.equal(out.method, 'greedy');
  assert.deepEqual(out.aForEachB, c.argmax_a_for_each_b);
  c.max_corr_for_each_b.forEach((v, j) => assert.ok(Math.abs(out.corrForEachB[j]! - v) < 1e-4));
  assert.equal(out.bForEachA.length, c.A[0]!.length);
});

test('hungarian reproduces the original one-to-one assignment; ot gives a map of the same shape', async () => {
  const c = cases.find((x) => x.hungarian_a_for_each_b)!;
  const a = await npy('h_a.npy', toMat(c.A)), b = await npy('h_b.npy', toMat(c.B));
  const r = ufg('--a', a, '--b', b, '--method', 'hungarian', '--compat', 'reference', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as PairJson;
  assert.deepEqual(out.aForEachB, c.hungarian_a_for_each_b);
  assert.ok(Math.abs(out.total! - c.hungarian_total_corr!) < 1e-4);
  const ot = JSON.parse(ufg('--a', a, '--b', b, '--method', 'ot', '--json').stdout) as PairJson;
  assert.equal(ot.method, 'ot');
  assert.equal(ot.aForEachB.length, c.B[0]!.length);
  assert.ok(ot.aForEachB.every((x) => x >= 0 && x < c.A[0]!.length));
});

test('bad input: one line naming the file and the problem, exit 2, no stack trace', async () => {
  const good = await npy('ok.npy', { data: Float32Array.from({ length: 20 }, (_, i) => Math.sin(i)), rows: 10, cols: 2 });
  const short = await npy('short.npy', { data: Float32Array.from({ length: 18 }, (_, i) => Math.cos(i)), rows: 9, cols: 2 });
  const nan = await npy('nan.npy', { data: Float32Array.from({ length: 20 }, (_, i) => (i === 7 ? NaN : i)), rows: 10, cols: 2 });
  const txt = join(dir, 'acts.csv');
  writeFileSync(txt, '1,2\n3,4\n');
  const missing = join(dir, 'nope.npy');
  const expectations: [string[], RegExp][] = [
    [['--a', missing, '--b', good], /nope\.npy.*not found/],
    [['--a', good, '--b', txt], /acts\.csv.*\.npy/],
    [['--a', good, '--b', short], /token counts differ.*10.*9/],
    [['--a', nan, '--b', good], /nan\.npy.*NaN.*row 3, column 1/],
    [['--a', good, '--b', good, '--method', 'magic'], /--method/],
    [['--a', good], /--b/],
  ];
  for (const [args, pattern] of expectations) assertUsageError(ufg(...args), pattern, args.join(' '));
});
