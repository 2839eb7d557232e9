// The batched nuclear norms behind the SVCCA null: matrices U·diag(σ)·Vᵀ with prescribed singular
// values in [0, 1] — spread, clustered where the Polar Express schedule is weakest (σ ≈ 1e-3),
// exact zeros (equal kA = kB with canonical correlations reaching 0), all ones, square and
// rectangular — against Σσ, to 2e-5 of the mean (SVCCA needs 1e-4); and the SVCCA null against
// exact SVD scores on spectra that reach 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';
import { nuclearNormsBatched, permutedCanonicalNorms, UNIT_SPECTRUM_SCHEDULE } from '../pipelines/similarity/spectrum.ts';
import { permutationNull } from '../pipelines/similarity/permutationNull.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { seededPermutations } from '../pipelines/similarity/permutations.ts';
import { gaussian } from './similarity.data.ts';

/** `cols` orthonormal columns; with `centred`, also orthogonal to the all-ones vector. */
function orthonormalColumns(rows: number, cols: number, seed: number, centred = false): Matrix {
  const g = gaussian(seededRandom(seed));
  const extra = centred ? 1 : 0;
  const a = new Matrix(Array.from({ length: rows }, () => [...(centred ? [1] : []), ...Array.from({ length: cols }, g)]));
  const q = new QrDecomposition(a).orthogonalMatrix;
  return q.subMatrix(0, rows - 1, extra, cols + extra - 1);
}

/** An r×c matrix (f32, row-major) with singular values `sigma` (length min(r, c)). */
function withSpectrum(r: number, c: number, sigma: readonly number[], seed: number): Float32Array {
  const k = Math.min(r, c);
  const u = orthonormalColumns(r, k, seed), v = orthonormalColumns(c, k, seed + 1);
  const m = u.mmul(Matrix.diag(sigma)).mmul(v.transpose());
  return Float32Array.from(m.to1DArray());
}

const spectra: Record<string, (k: number) => number[]> = {
  'log-spread 1e-6..1': (k) => Array.from({ length: k }, (_, i) => 10 ** (-6 + (6 * i) / (k - 1))),
  'clustered at 1e-3': (k) => Array.from({ length: k }, (_, i) => 1e-3 * (0.5 + i / k)),
  'clustered at 3e-3': (k) => Array.from({ length: k }, (_, i) => 3e-3 * (0.8 + (0.4 * i) / k)),
  'half zeros, half near 1': (k) => Array.from({ length: k }, (_, i) => (i < k / 2 ? 0 : 1 - 1e-3 * i)),
  'all ones (f32 rounding above 1)': (k) => Array.from({ length: k }, () => 1),
  'uniform 0..1': (k) => Array.from({ length: k }, (_, i) => i / (k - 1)),
  'null-like 0.05..0.5': (k) => Array.from({ length: k }, (_, i) => 0.05 + (0.45 * i) / (k - 1)),
};

for (const [r, c] of [[24, 24], [20, 31], [31, 20]] as const) {
  test(`nuclear norms of ${r}×${c} matrices with adversarial spectra in [0, 1] are within 2e-5 of Σσ per value`, async () => {
    const names = Object.keys(spectra);
    const k = Math.min(r, c);
    const batch = new Float32Array(names.length * r * c);
    const exact = names.map((name, b) => {
      const sigma = spectra[name]!(k);
      batch.set(withSpectrum(r, c, sigma, 100 + b), b * r * c);
      return sigma.reduce((a, s) => a + s, 0);
    });
    const norms = await nuclearNormsBatched(batch, names.length, r, c, UNIT_SPECTRUM_SCHEDULE);
    names.forEach((name, b) => {
      const err = Math.abs(norms[b]! - exact[b]!) / k;
      assert.ok(err <= 2e-5, `${name}: ${norms[b]} vs Σσ ${exact[b]} (mean error ${err.toExponential(2)})`);
    });
    // Each matrix alone gets the same norm as in the batch (decided per matrix).
    const alone = await nuclearNormsBatched(batch.slice(3 * r * c, 4 * r * c), 1, r, c, UNIT_SPECTRUM_SCHEDULE);
    assert.ok(Math.abs(alone[0]! - norms[3]!) <= 1e-5 * k, `alone ${alone[0]} vs in batch ${norms[3]}`);
  });
}

test('SVCCA null with kA = kB and canonical correlations reaching 0 equals exact SVD scores within 1e-4', async () => {
  // x and y share 3 of 6 directions exactly and are orthogonal in the other 3: the observed
  // canonical correlations are 1,1,1,0,0,0 (kA = kB = 6 of n = 40 rows).
  const n = 40, d = 6;
  const q = orthonormalColumns(n, 2 * d, 7, true);
  const centred = (cols: number[]): Mat => ({ data: Float32Array.from(q.subMatrixColumn(cols).to1DArray()), rows: n, cols: cols.length });
  const x = centred([0, 1, 2, 3, 4, 5]);
  const y = centred([0, 1, 2, 9, 10, 11]);
  const perms = seededPermutations(n, 12, 3);
  const fast = await permutationNull(MEASURES.svcca, x, y, { permutations: perms, keepScores: true });
  const slow = await permutationNull(MEASURES.svcca, x, y, { permutations: perms, keepScores: true, slow: true });
  assert.deepEqual([fast.extras?.kA, fast.extras?.kB], [d, d]);
  assert.ok(Math.abs(slow.observed - 0.5) < 1e-5, `exact observed ${slow.observed} (three correlations 1, three ~0)`);
  assert.ok(Math.abs(fast.observed - slow.observed) <= 1e-4, `observed: ${fast.observed} vs exact ${slow.observed}`);
  fast.nullScores!.forEach((v, i) => assert.ok(Math.abs(v - slow.nullScores![i]!) <= 1e-4, `permutation ${i}: ${v} vs exact ${slow.nullScores![i]}`));
});

/**
 * Orthonormal n×r L and n×c R with Lᵀ·R = U·diag(σ)·Vᵀ (σ in [0, 1]): R = L·A + W·diag(√(1 − σ̃²))·Vᵀ
 * with W orthonormal and orthogonal to L, σ̃ the σ padded with zeros to c (r ≤ c).
 */
function basesWithCrossSpectrum(n: number, r: number, c: number, sigma: readonly number[], seed: number): { leftT: Mat; right: Mat } {
  const q = orthonormalColumns(n, r + c, seed);
  const l = q.subMatrix(0, n - 1, 0, r - 1);
  const w = q.subMatrix(0, n - 1, r, r + c - 1);
  const u = orthonormalColumns(r, r, seed + 1), v = orthonormalColumns(c, c, seed + 2);
  const padded = [...sigma, ...Array.from({ length: c - r }, () => 0)];
  const a = u.mmul(new Matrix([...Array.from({ length: r }, (_, i) => padded.map((_, j) => (i === j ? sigma[i]! : 0)))])).mmul(v.transpose());
  const b = w.mmul(Matrix.diag(padded.map((s) => Math.sqrt(Math.max(0, 1 - s * s))))).mmul(v.transpose());
  const rm = l.mmul(a).add(b);
  return { leftT: { data: Float32Array.from(l.transpose().to1DArray()), rows: r, cols: n }, right: { data: Float32Array.from(rm.to1DArray()), rows: n, cols: c } };
}

test('permuted canonical norms: scaled fast steps where the spectrum allows, the unit schedule otherwise, each within 2e-5 of Σσ', async () => {
  const n = 96, r = 20, c = 31;
  const identity = Int32Array.from({ length: n }, (_, i) => i);
  const fastOnes: string[] = [];
  for (const [name, spectrum] of Object.entries(spectra)) {
    const sigma = spectrum(r);
    const { leftT, right } = basesWithCrossSpectrum(n, r, c, sigma, 300);
    const stats = { rescored: 0 };
    const [norm] = await permutedCanonicalNorms(leftT, right, [identity], { stats });
    const exact = sigma.reduce((a, s) => a + s, 0);
    assert.ok(Math.abs(norm! - exact) / r <= 2e-5, `${name}: ${norm} vs Σσ ${exact}`);
    if (stats.rescored === 0) fastOnes.push(name);
  }
  // The null's own spectra (a bulk well inside [0.05, 1.05] once scaled) take the fast steps, as
  // do spectra whose σ below the interval are exact zeros or too few to move the trace; σ spread
  // over six decades are scored again by the unit schedule.
  for (const name of ['null-like 0.05..0.5', 'all ones (f32 rounding above 1)', 'clustered at 1e-3']) assert.ok(fastOnes.includes(name), `${name} takes the fast steps (fast: ${fastOnes.join(', ')})`);
  assert.ok(!fastOnes.includes('log-spread 1e-6..1'), 'σ spread over six decades are scored again');

  // Random permutations of independent bases: the batch's norms equal exact SVD sums, and each
  // matrix alone gets the norm it got in the batch.
  const q = orthonormalColumns(n, r + c, 400);
  const leftT: Mat = { data: Float32Array.from(q.subMatrix(0, n - 1, 0, r - 1).transpose().to1DArray()), rows: r, cols: n };
  const right: Mat = { data: Float32Array.from(q.subMatrix(0, n - 1, r, r + c - 1).to1DArray()), rows: n, cols: c };
  const perms = seededPermutations(n, 6, 9);
  const stats = { rescored: 0 };
  const norms = await permutedCanonicalNorms(leftT, right, perms, { stats });
  assert.ok(stats.rescored < perms.length, 'permuted independent bases take the fast steps');
  const l = Matrix.from1DArray(r, n, Array.from(leftT.data));
  perms.forEach((p, b) => {
    const rp = Matrix.from1DArray(n, c, Array.from({ length: n * c }, (_, i) => right.data[p[Math.floor(i / c)]! * c + (i % c)]!));
    const exact = new SingularValueDecomposition(l.mmul(rp), { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal.reduce((a, s) => a + s, 0);
    assert.ok(Math.abs(norms[b]! - exact) / r <= 2e-5, `permutation ${b}: ${norms[b]} vs ${exact}`);
  });
  const [alone] = await permutedCanonicalNorms(leftT, right, [perms[4]!]);
  assert.equal(alone, norms[4], 'the same norm alone as in the batch');
});

test('Procrustes null through the fused canonical route equals the measure scored on each permutation within 1e-4', async () => {
  // Half of y's columns follow x, the rest are noise: products with a spread spectrum, σ > 1 after
  // Procrustes' own scaling, so both the fast route and its fallback are exercised.
  const n = 120, dx = 20, dy = 31;
  const g = gaussian(seededRandom(11));
  const xd = Float32Array.from({ length: n * dx }, g);
  const yd = Float32Array.from({ length: n * dy }, (_, i) => {
    const [row, col] = [Math.floor(i / dy), i % dy];
    return col < dx / 2 ? xd[row * dx + col]! + 0.3 * g() : g();
  });
  const x: Mat = { data: xd, rows: n, cols: dx };
  const y: Mat = { data: yd, rows: n, cols: dy };
  const perms = seededPermutations(n, 16, 5);
  const fast = await permutationNull(MEASURES.procrustes, x, y, { permutations: perms, keepScores: true });
  const slow = await permutationNull(MEASURES.procrustes, x, y, { permutations: perms, keepScores: true, slow: true });
  assert.ok(Math.abs(fast.observed - slow.observed) <= 1e-6, `observed: ${fast.observed} vs ${slow.observed}`);
  fast.nullScores!.forEach((v, i) => assert.ok(Math.abs(v - slow.nullScores![i]!) <= 1e-4, `permutation ${i}: ${v} vs scored ${slow.nullScores![i]}`));
});
