// Benjamini–Hochberg q-values against a hand computation: ranks, the step-up minimum (a later,
// larger p can lower an earlier q), ties, untested (NaN) entries, and the cap at 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benjaminiHochberg } from '../pipelines/similarity/multipleTesting.ts';

const close = (got: number[], want: number[]) => got.forEach((v, i) => assert.ok(Number.isNaN(want[i]!) ? Number.isNaN(v) : Math.abs(v - want[i]!) < 1e-12, `entry ${i}: ${v} vs ${want[i]}`));

test('BH by hand: m·p/rank, then the running minimum from the largest p down', () => {
  // sorted: 0.01 (1), 0.02 (2), 0.03 (3), 0.04 (4), 0.2 (5); m = 5
  // m·p/rank: 0.05, 0.05, 0.05, 0.05, 0.2 → step-up minimum changes nothing here.
  close(benjaminiHochberg([0.04, 0.01, 0.2, 0.03, 0.02]), [0.05, 0.05, 0.2, 0.05, 0.05]);
  // m = 4; sorted 0.01, 0.04, 0.045, 0.05: m·p/rank = 0.04, 0.08, 0.06, 0.05 → minimum from the top:
  // q(0.05) = 0.05, q(0.045) = 0.05, q(0.04) = min(0.08, 0.05) = 0.05, q(0.01) = 0.04.
  close(benjaminiHochberg([0.05, 0.01, 0.045, 0.04]), [0.05, 0.04, 0.05, 0.05]);
});

test('ties share one q; NaN entries are not tested and do not count in m; q is capped at 1', () => {
  // tested: 0.02, 0.02, 0.5, 0.9 (m = 4): ranks 1, 2 tie → 4·0.02/2 = 0.04 for both; 0.5 → 0.6667; 0.9 → 0.9.
  close(benjaminiHochberg([0.02, Number.NaN, 0.9, 0.02, 0.5]), [0.04, Number.NaN, 0.9, 0.04, 4 * 0.5 / 3]);
  close(benjaminiHochberg([1, 1, 0.9]), [1, 1, 1]);
  close(benjaminiHochberg([0.3]), [0.3]);
  assert.deepEqual(benjaminiHochberg([]), []);
  close(benjaminiHochberg([Number.NaN, Number.NaN]), [Number.NaN, Number.NaN]);
  assert.throws(() => benjaminiHochberg([0.1, 1.5]), /outside \[0, 1\]/);
});

test('q is never below p and keeps the order of p', () => {
  const p = Array.from({ length: 50 }, (_, i) => ((i * 37) % 50) / 60 + 0.001);
  const q = benjaminiHochberg(p);
  p.forEach((v, i) => assert.ok(q[i]! >= v - 1e-15));
  const order = [...p.keys()].sort((a, b) => p[a]! - p[b]!);
  for (let k = 1; k < order.length; k++) assert.ok(q[order[k]!]! >= q[order[k - 1]!]!);
});
