import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { gaussian, seededRandom } from '../pipelines/random.ts';
import { singularBasis } from '../pipelines/similarity/basis.ts';
import { svcca } from '../pipelines/similarity/svcca.ts';

function randomMat(rows: number, cols: number, seed: number): Mat {
  const g = gaussian(seededRandom(seed));
  // Uneven column scales, so the 99% rule keeps fewer directions than the rank.
  return { data: Float32Array.from({ length: rows * cols }, (_, i) => g() * (1 + 3 / (1 + (i % cols)))), rows, cols };
}

function centredMatrix(x: Mat): Matrix {
  const m = new Matrix(x.rows, x.cols);
  for (let c = 0; c < x.cols; c++) {
    let mean = 0;
    for (let r = 0; r < x.rows; r++) mean += x.data[r * x.cols + c]!;
    mean /= x.rows;
    for (let r = 0; r < x.rows; r++) m.set(r, c, x.data[r * x.cols + c]! - mean);
  }
  return m;
}

test('singular basis: fewer rows than columns (row Gram) and more (column Gram) both give Xc = U·S·Vᵀ with orthonormal U and V', async () => {
  for (const [rows, cols] of [[40, 90], [90, 40]] as const) {
    const x = randomMat(rows, cols, rows + cols);
    const b = await singularBasis(x, 'rank');
    const xc = centredMatrix(x);
    const svd = new SingularValueDecomposition(xc, { autoTranspose: true });
    assert.equal(b.k, Math.min(rows - 1, cols), `${rows}×${cols}: the centred rows have rank min(n − 1, d)`);
    for (let i = 0; i < b.k; i++) assert.ok(Math.abs(b.s[i]! - svd.diagonal[i]!) <= 1e-4 * svd.diagonal[0]!, `${rows}×${cols}: singular value ${i}`);
    let orth = 0, orthV = 0, recon = 0;
    for (let p = 0; p < b.k; p++) {
      for (let q = 0; q < b.k; q++) {
        let uu = 0, vv = 0;
        for (let r = 0; r < rows; r++) uu += b.u.data[r * b.k + p]! * b.u.data[r * b.k + q]!;
        for (let c = 0; c < cols; c++) vv += b.v.get(c, p) * b.v.get(c, q);
        orth = Math.max(orth, Math.abs(uu - (p === q ? 1 : 0)));
        orthV = Math.max(orthV, Math.abs(vv - (p === q ? 1 : 0)));
      }
    }
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let s = 0;
        for (let t = 0; t < b.k; t++) s += b.u.data[r * b.k + t]! * b.s[t]! * b.v.get(c, t);
        recon = Math.max(recon, Math.abs(s - xc.get(r, c)));
      }
    }
    assert.ok(orth < 1e-4 && orthV < 1e-4, `${rows}×${cols}: UᵀU, VᵀV within ${orth}, ${orthV} of I`);
    assert.ok(recon < 1e-3, `${rows}×${cols}: U·S·Vᵀ within ${recon} of Xc`);
  }
});

test('SVCCA with fewer rows than columns equals the canonical correlations of an explicit SVD of each centred side', async () => {
  const x = randomMat(60, 120, 1), y = randomMat(60, 150, 2);
  for (let r = 0; r < 60; r++) for (let c = 0; c < 100; c++) y.data[r * 150 + c] = y.data[r * 150 + c]! + 2 * x.data[r * 120 + c]!;
  const basis = (m: Mat): Matrix => {
    const svd = new SingularValueDecomposition(centredMatrix(m), { autoTranspose: true });
    const total = svd.diagonal.reduce((a, v) => a + v * v, 0);
    let cum = 0, k = 0;
    while (cum / total < 0.99) cum += svd.diagonal[k]! ** 2, k++;
    return svd.leftSingularVectors.subMatrix(0, m.rows - 1, 0, k - 1);
  };
  const ux = basis(x), uy = basis(y);
  const rho = new SingularValueDecomposition(ux.transpose().mmul(uy), { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true }).diagonal;
  const expected = rho.reduce((a, v) => a + Math.min(1, v), 0) / rho.length;
  const got = await svcca.score(x, y);
  assert.equal(got.extras?.kA, ux.columns);
  assert.equal(got.extras?.kB, uy.columns);
  assert.ok(Math.abs(got.score - expected) < 1e-4, `SVCCA ${got.score} vs ${expected}`);
});
