// `ufg similarity` end to end: real .npy files, a spawned CLI process, one JSON object out,
// and one clear line (exit 2) for every kind of bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MEASURE_NAMES } from '../pipelines/similarity/registry.ts';
import { similarityCases, toMat } from './reference.ts';
import { independentPair } from './similarity.data.ts';
import { assertUsageError, runUfg, scratchNpy } from './cliRun.ts';

const cases = similarityCases();

const { dir, npy } = scratchNpy('ufg-similarity-cli-');
const ufg = (...args: string[]) => runUfg('similarity', ...args);

interface MetricJson {
  observed: number;
  nullMean: number;
  nullSd: number;
  effect: number | null;
  p: number;
  pFloor: number;
  permutations: number;
  saturated: boolean;
  saturatedReason: string | null;
  kA?: number;
  kB?: number;
}

test('every metric: one JSON object with observed, null mean/sd, p and the reference numbers', async () => {
  const c = cases.find((x) => x.procrustes_rel_rmse !== undefined && x.name.startsWith('linear'))!;
  const a = await npy('a.npy', toMat(c.R)), b = await npy('b.npy', toMat(c.Rp));
  const r = ufg('--a', a, '--b', b, '--metrics', MEASURE_NAMES.join(','), '--permutations', '20', '--seed', '3', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { rows: number; colsA: number; colsB: number; metrics: Record<string, MetricJson> };
  assert.deepEqual([out.rows, out.colsA, out.colsB], [c.R.length, c.R[0]!.length, c.Rp[0]!.length]);
  assert.deepEqual(Object.keys(out.metrics), MEASURE_NAMES);
  for (const [name, m] of Object.entries(out.metrics)) {
    for (const key of ['observed', 'nullMean', 'nullSd', 'p', 'pFloor'] as const) assert.equal(typeof m[key], 'number', `${name}.${key}`);
    assert.equal(m.permutations, 20);
    assert.equal(typeof m.saturated, 'boolean', `${name}.saturated`);
    assert.equal(m.saturatedReason === null, !m.saturated, `${name}: a reason exactly when saturated`);
    if (m.effect !== null) assert.ok(Math.abs(m.effect - (m.observed - m.nullMean) / m.nullSd) < 1e-9 * Math.max(1, Math.abs(m.effect)), `${name}.effect`);
    assert.ok(m.p >= 1 / 21 && m.p <= 1, `${name} p ${m.p}`);
  }
  const near = (v: number, want: number): boolean => Math.abs(v - want) < 1e-4;
  assert.ok(near(out.metrics.svcca!.observed, c.svcca_corrected));
  assert.deepEqual([out.metrics.svcca!.kA, out.metrics.svcca!.kB], c.svcca_corrected_k);
  assert.ok(near(out.metrics['svcca-reference']!.observed, c.svcca_reference));
  assert.ok(near(out.metrics.rsa!.observed, c.rsa_reference));
  assert.ok(near(out.metrics.cka!.observed, c.linear_cka));
  assert.ok(near(out.metrics.procrustes!.observed, c.procrustes_rel_rmse!));
  assert.equal(out.metrics.svcca!.p, 1 / 21, 'linearly related rows beat every permutation');

  const ref = JSON.parse(ufg('--a', a, '--b', b, '--metrics', 'svcca', '--permutations', '20', '--compat', 'reference', '--json').stdout) as { metrics: Record<string, MetricJson> };
  assert.equal(ref.metrics.svcca!.p, 0, 'reference p = mean(null ≥ observed)');
  const text = ufg('--a', a, '--b', b, '--metrics', 'svcca', '--permutations', '5');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^svcca\s+0\.\d{4}\s+null/m);
});

test('unrelated Gaussian rows, n = 20 × d = 512: SVCCA is flagged saturated, debiased CKA is near 0; at n = 8192 SVCCA is not saturated', async () => {
  const small = independentPair(20, 512, 512, 2026);
  const a = await npy('gauss-a-20.npy', small.x), b = await npy('gauss-b-20.npy', small.y);
  const r = ufg('--a', a, '--b', b, '--metrics', 'svcca,cka-debiased', '--permutations', '200', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { metrics: Record<string, MetricJson> };
  const svcca = out.metrics.svcca!, ckaU = out.metrics['cka-debiased']!;
  assert.ok(svcca.observed > 0.999, `SVCCA of 20 unrelated rows is 1 by construction: ${svcca.observed}`);
  assert.equal(svcca.saturated, true);
  assert.match(svcca.saturatedReason!, /kept 19 and 19 directions of 20 rows/);
  assert.equal(svcca.effect, null, 'every permuted score is 1 as well: no spread to measure an effect against');
  assert.ok(Math.abs(ckaU.observed) < 0.1, `debiased CKA ${ckaU.observed}`);
  assert.equal(ckaU.saturated, false);
  assert.ok(ckaU.effect !== null && Math.abs(ckaU.effect) < 3, `effect ${ckaU.effect}`);
  const text = ufg('--a', a, '--b', b, '--metrics', 'svcca', '--permutations', '20');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^svcca\s+1\.0000\s+null.*effect n\/a/m);
  assert.match(text.stdout, /^\s+saturated: kept 19 and 19 directions of 20 rows/m);

  // Plenty of rows: 504 kept directions of 8192 rows. Observed only (a null at this size takes minutes here).
  const large = independentPair(8192, 512, 512, 2027);
  const la = await npy('gauss-a-8192.npy', large.x), lb = await npy('gauss-b-8192.npy', large.y);
  const big = ufg('--a', la, '--b', lb, '--metrics', 'svcca', '--permutations', '0', '--json');
  assert.equal(big.code, 0, big.stderr);
  const s = (JSON.parse(big.stdout) as { metrics: Record<string, MetricJson> }).metrics.svcca!;
  assert.equal(s.saturated, false, `${s.kA}/${s.kB} directions of 8192 rows`);
  assert.equal(s.saturatedReason, null);
  assert.ok(s.kA! > 400 && s.kA! < 4096 && s.observed < 0.5, `kA ${s.kA}, SVCCA ${s.observed}`);
});

test('bad input: one line naming the file and the problem, exit 2, no stack trace', async () => {
  const rnd = (i: number): number => Math.sin(i * 12.9898) * 43758.5453 % 1;
  const good = await npy('ok.npy', { data: Float32Array.from({ length: 40 }, (_, i) => rnd(i)), rows: 10, cols: 4 });
  const wide = await npy('wide.npy', { data: Float32Array.from({ length: 50 }, (_, i) => rnd(i + 99)), rows: 10, cols: 5 });
  const short = await npy('short.npy', { data: Float32Array.from({ length: 36 }, (_, i) => rnd(i + 7)), rows: 9, cols: 4 });
  const tiny = await npy('tiny.npy', { data: Float32Array.from({ length: 12 }, (_, i) => rnd(i + 3)), rows: 3, cols: 4 });
  const tinyB = await npy('tinyB.npy', { data: Float32Array.from({ length: 12 }, (_, i) => rnd(i + 5)), rows: 3, cols: 4 });
  const nan = await npy('nan.npy', { data: Float32Array.from({ length: 40 }, (_, i) => (i === 9 ? NaN : rnd(i))), rows: 10, cols: 4 });
  const flat = await npy('flat.npy', { data: new Float32Array(40).fill(2), rows: 10, cols: 4 });
  const txt = join(dir, 'rows.csv');
  writeFileSync(txt, '1,2\n3,4\n');
  const fake = join(dir, 'fake.npy');
  writeFileSync(fake, 'not numpy at all');
  const missing = join(dir, 'nope.npy');
  const expectations: [string[], RegExp][] = [
    [['--a', missing, '--b', good], /nope\.npy.*not found/],
    [['--a', good, '--b', txt], /rows\.csv.*\.npy/],
    [['--a', fake, '--b', good], /fake\.npy.*not a \.npy/],
    [['--a', good, '--b', short], /rows must be paired.*10 rows.*short\.npy has 9/],
    [['--a', nan, '--b', good], /nan\.npy.*NaN.*row 2, column 1/],
    [['--a', tiny, '--b', tinyB, '--metrics', 'rsa'], /tiny\.npy.*rsa needs at least 4 paired rows.*3/],
    [['--a', good, '--b', wide, '--metrics', 'mean-corr'], /mean-corr.*4 columns.*wide\.npy has 5/],
    [['--a', flat, '--b', good], /flat\.npy.*identical/],
    [['--a', good, '--b', good, '--metrics', 'svcca,magic'], /unknown metric 'magic'/],
    [['--a', good, '--b', good, '--permutations', '-3'], /--permutations/],
    [['--a', good], /--b/],
  ];
  for (const [args, pattern] of expectations) assertUsageError(ufg(...args), pattern, args.join(' '));
});
