import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gemm, mat, residentGemmRate } from '../pipelines/kernels/gemm.ts';

function naive(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
  return c;
}

test('gemm agrees with a direct triple loop, with and without transposes', async () => {
  const m = 7, k = 5, n = 3;
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(2 * i));
  const want = naive(a, b, m, k, n);
  const c = await gemm(mat(m, k, a), mat(k, n, b));
  assert.equal(c.rows, m);
  assert.equal(c.cols, n);
  c.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5));
  // Aᵀ stored as k×m, Bᵀ stored as n×k
  const at = new Float32Array(k * m), bt = new Float32Array(n * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) at[p * m + i] = a[i * k + p]!;
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bt[j * k + p] = b[p * n + j]!;
  const c2 = await gemm(mat(k, m, at), mat(n, k, bt), { transA: true, transB: true });
  c2.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5));
  await assert.rejects(gemm(mat(2, 3), mat(2, 3)), /inner dimensions/);
});

test('residentGemmRate: a chain of products drawn on the device runs and reports a finite rate', async () => {
  // 64 chained products of a 128 × 128 matrix: the √(3/n) scaling keeps them finite (the rate
  // function throws on an overflowed chain), so a wrong scale or graph fails here.
  const rate = await residentGemmRate(128, 64);
  assert.ok(Number.isFinite(rate) && rate > 1e6, `rate ${rate}`);
});
