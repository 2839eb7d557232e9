// Seeded test matrices for the similarity tests: Gaussian, random orthogonal, and row-related
// pairs with a spread spectrum.
import { Matrix, QrDecomposition } from 'ml-matrix';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';

export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export function randomMat(rows: number, cols: number, seed: number, scale = 1): Mat {
  const g = gaussian(seededRandom(seed));
  return { data: Float32Array.from({ length: rows * cols }, () => g() * scale), rows, cols };
}

export function matmul(a: Mat, b: Mat): Mat {
  const out = new Float32Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) for (let k = 0; k < a.cols; k++) for (let j = 0; j < b.cols; j++) out[i * b.cols + j]! += a.data[i * a.cols + k]! * b.data[k * b.cols + j]!;
  return { data: out, rows: a.rows, cols: b.cols };
}

function add(a: Mat, b: Mat): Mat {
  return { data: a.data.map((v, i) => v + b.data[i]!), rows: a.rows, cols: a.cols };
}

export function randomOrthogonal(d: number, seed: number): Mat {
  const q = new QrDecomposition(new Matrix(Array.from({ length: d }, (_, i) => Array.from(randomMat(1, d, seed * 31 + i).data)))).orthogonalMatrix;
  return { data: Float32Array.from(q.to1DArray()), rows: d, cols: d };
}

/** Row-related data with a spread spectrum (as decoder rows have): y = x·M + noise. */
export function relatedPair(n: number, dA: number, dB: number, seed: number, noise = 0.3): { x: Mat; y: Mat } {
  const scales = Array.from({ length: dA }, (_, c) => 1 / (1 + c));
  const base = randomMat(n, dA, seed);
  const x: Mat = { data: base.data.map((v, i) => v * scales[i % dA]! + 0.5), rows: n, cols: dA };
  const y = add(matmul(x, randomMat(dA, dB, seed + 1)), randomMat(n, dB, seed + 2, noise));
  return { x, y };
}

export function independentPair(n: number, dA: number, dB: number, seed: number): { x: Mat; y: Mat } {
  return { x: randomMat(n, dA, seed), y: randomMat(n, dB, seed + 1000) };
}
