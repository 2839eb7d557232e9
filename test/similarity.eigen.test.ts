// The flat-array symmetric eigen-solver (symmetricEigenvalues.ts) against ml-matrix's
// EigenvalueDecomposition (JAMA's tred2/tql2) on spread and rank-deficient Grams: the same
// eigenvalues, and eigenvectors that are orthonormal and satisfy A·v = λ·v.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { symmetricEigenDecomposition, symmetricEigenvalues } from '../pipelines/similarity/symmetricEigenvalues.ts';
import { symmetricEigen } from '../pipelines/similarity/spectrum.ts';
import { randomMat } from './similarity.data.ts';

/** B·D·Bᵀ with B d×k Gaussian and D spreading the rows over `decades` orders of magnitude. */
function spreadGram(d: number, k: number, decades: number): Float64Array {
  const b = randomMat(d, k, d + k);
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += b.data[i * k + q]! * b.data[j * k + q]! * 10 ** ((-decades * (i + j)) / (2 * d));
      a[i * d + j] = s;
    }
  }
  return a;
}

function referenceValues(a: Float64Array, d: number): number[] {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m.set(i, j, a[i * d + j]!);
  return new EigenvalueDecomposition(m, { assumeSymmetric: true }).realEigenvalues.sort((x, y) => y - x);
}

const CASES = [[1, 1, 0], [2, 3, 1], [30, 8, 3], [60, 90, 6], [97, 40, 2]] as const;

test('symmetricEigenvalues matches ml-matrix on spread and rank-deficient Grams', () => {
  for (const [d, k, decades] of CASES) {
    const a = spreadGram(d, k, decades);
    const ours = symmetricEigenvalues(a, d);
    const theirs = referenceValues(a, d);
    assert.equal(ours.length, d);
    for (let i = 0; i < d; i++) assert.ok(Math.abs(ours[i]! - theirs[i]!) < 1e-12 * Math.max(1, theirs[0]!), `d=${d} λ${i}: ${ours[i]} vs ${theirs[i]}`);
    if (k < d) assert.ok(Math.abs(ours[d - 1]!) < 1e-12 * ours[0]!, 'rank-deficient: the trailing eigenvalues are zero');
  }
});

test('symmetricEigenDecomposition: ml-matrix eigenvalues, orthonormal eigenvectors with A·v = λ·v', () => {
  for (const [d, k, decades] of CASES) {
    const a = spreadGram(d, k, decades);
    const { values, vectors } = symmetricEigenDecomposition(a, d);
    const theirs = referenceValues(a, d);
    const scale = Math.max(1, theirs[0]!);
    for (let i = 0; i < d; i++) assert.ok(Math.abs(values[i]! - theirs[i]!) < 1e-12 * scale, `d=${d} λ${i}`);
    for (let p = 0; p < d; p++) {
      for (let q = p; q < d; q++) {
        let dot = 0;
        for (let r = 0; r < d; r++) dot += vectors[r * d + p]! * vectors[r * d + q]!;
        assert.ok(Math.abs(dot - (p === q ? 1 : 0)) < 1e-10, `d=${d}: v${p}·v${q} = ${dot}`);
      }
      let residual = 0;
      for (let r = 0; r < d; r++) {
        let av = 0;
        for (let c = 0; c < d; c++) av += a[r * d + c]! * vectors[c * d + p]!;
        residual = Math.max(residual, Math.abs(av - values[p]! * vectors[r * d + p]!));
      }
      assert.ok(residual < 1e-11 * scale, `d=${d}: ‖A·v${p} − λ·v${p}‖∞ = ${residual}`);
    }
  }
});

test('symmetricEigen keeps the Matrix layout its callers read (column j = eigenvector j)', () => {
  const d = 30;
  const a = spreadGram(d, 8, 3);
  const flat = symmetricEigenDecomposition(a, d);
  const e = symmetricEigen(a, d);
  assert.deepEqual(Array.from(e.values), Array.from(flat.values));
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) assert.equal(e.vectors.get(r, c), flat.vectors[r * d + c]);
});
