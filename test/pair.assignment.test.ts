import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxWeightAssignment } from '../pipelines/pair/hungarian.ts';
import { sinkhornHardMap } from '../pipelines/pair/sinkhorn.ts';
import { mostActiveFeatures, pairOneToOne } from '../pipelines/pair/oneToOne.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';
import { pairingCases, toMat } from './reference.ts';

const cases = pairingCases();

/** Best total over every injective map of the smaller side, by exhaustive search. */
function bruteForceBest(w: Mat): number {
  const small = Math.min(w.rows, w.cols), rowsSmall = w.rows <= w.cols;
  const big = rowsSmall ? w.cols : w.rows;
  const at = (s: number, b: number) => (rowsSmall ? w.data[s * w.cols + b]! : w.data[b * w.cols + s]!);
  let best = -Infinity;
  const used = new Array<boolean>(big).fill(false);
  const go = (s: number, acc: number) => {
    if (s === small) return void (best = Math.max(best, acc));
    for (let b = 0; b < big; b++) if (!used[b]) {
      used[b] = true;
      go(s + 1, acc + at(s, b));
      used[b] = false;
    }
  };
  go(0, 0);
  return best;
}

test('Hungarian finds the best total, for square and rectangular weights (checked exhaustively)', () => {
  const r = seededRandom(1);
  for (const [rows, cols] of [[5, 5], [4, 7], [7, 4], [1, 3], [6, 6]] as const) {
    for (let rep = 0; rep < 5; rep++) {
      const w = { data: Float32Array.from({ length: rows * cols }, () => Math.round(r() * 20) / 10 - 1), rows, cols };
      const res = maxWeightAssignment(w);
      assert.ok(Math.abs(res.total - bruteForceBest(w)) < 1e-6, `${rows}x${cols}`);
      const assigned = Array.from(res.colForRow).filter((j) => j >= 0);
      assert.equal(assigned.length, Math.min(rows, cols));
      assert.equal(new Set(assigned).size, assigned.length, 'columns used once');
      res.colForRow.forEach((j, i) => j >= 0 && assert.equal(res.rowForCol[j], i));
    }
  }
  assert.throws(() => maxWeightAssignment({ data: Float32Array.of(1, NaN), rows: 1, cols: 2 }), /finite/);
});

test('Hungarian on the reference pairing case reproduces the original assignment and total', async () => {
  const c = cases.find((x) => x.hungarian_a_for_each_b)!;
  const a = matrixSource(toMat(c.A)), b = matrixSource(toMat(c.B));
  const pool = (n: number) => Array.from({ length: n }, (_, i) => i);
  const res = await pairOneToOne(a, b, { method: 'hungarian', poolA: pool(a.numFeatures), poolB: pool(b.numFeatures), kind: 'reference' });
  assert.deepEqual(Array.from(res.aForEachB), c.hungarian_a_for_each_b);
  assert.ok(Math.abs(res.total - c.hungarian_total_corr!) < 1e-4, `${res.total} vs ${c.hungarian_total_corr}`);
});

test('a permuted identity is recovered exactly by Hungarian and by the OT hard map', async () => {
  const n = 40, r = seededRandom(2);
  const perm = Array.from({ length: n }, (_, i) => i).sort(() => r() - 0.5);
  const T = 500;
  const A = new Float32Array(T * n), B = new Float32Array(T * n);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < n; i++) {
      const v = r() < 0.2 ? r() * 5 : 0;
      A[t * n + i] = v;
      B[t * n + perm[i]!] = 2 * v + 0.3 * r();
    }
  const all = Array.from({ length: n }, (_, i) => i);
  for (const method of ['hungarian', 'ot'] as const) {
    const res = await pairOneToOne(matrixSource({ data: A, rows: T, cols: n }), matrixSource({ data: B, rows: T, cols: n }), { method, poolA: all, poolB: all });
    assert.deepEqual(Array.from(res.bForEachA), perm, method);
    if (method === 'ot') assert.equal(res.converged, true);
  }
});

test('Sinkhorn hard map agrees with Hungarian on a well-separated similarity and balances its marginals', async () => {
  const n = 30, r = seededRandom(3);
  const target = Array.from({ length: n }, (_, i) => (i * 7) % n);
  const S = { data: Float32Array.from({ length: n * n }, (_, k) => (target[Math.floor(k / n)] === k % n ? 0.9 : 0.4 * r())), rows: n, cols: n };
  const ot = await sinkhornHardMap(S, { epsilon: 0.05 });
  assert.ok(ot.converged && ot.rowError <= 1e-4);
  assert.deepEqual(Array.from(ot.colForRow), target);
  assert.deepEqual(Array.from(ot.colForRow), Array.from(maxWeightAssignment(S).colForRow));
});

test('the pool holds the most active features, ties by index', () => {
  assert.deepEqual(mostActiveFeatures([0.5, 2, 2, 0, 3], 3), [1, 2, 4]);
  assert.deepEqual(mostActiveFeatures([1, 1], 5), [0, 1]);
});
