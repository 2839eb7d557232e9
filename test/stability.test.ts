// Pairing stability on two halves of the corpus: planted features (B's activations are A's,
// columns permuted, rescaled, with noise) get the same partner in both halves and the same kept
// set; independent features agree only at the rate independence predicts, and sit inside the
// relabelling null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { permutationOf, seededRandom } from '../pipelines/random.ts';
import { compareHalves, documentSplit, pairingStability } from '../pipelines/stability/pairingStability.ts';

/** T × F sparse non-negative codes: 3 active features per row, values in [0.5, 1.5]. */
function sparseCodes(T: number, F: number, seed: number): Mat {
  const r = seededRandom(seed);
  const m: Mat = { data: new Float32Array(T * F), rows: T, cols: F };
  for (let t = 0; t < T; t++) for (let j = 0; j < 3; j++) m.data[t * F + Math.floor(r() * F)] = 0.5 + r();
  return m;
}

function plantedCopy(a: Mat, seed: number): { b: Mat } {
  const r = seededRandom(seed);
  const perm = permutationOf(a.cols, r);
  const b: Mat = { data: new Float32Array(a.data.length), rows: a.rows, cols: a.cols };
  for (let t = 0; t < a.rows; t++) for (let f = 0; f < a.cols; f++) b.data[t * a.cols + perm[f]!] = a.data[t * a.cols + f]! * (1 + (f % 4)) + 0.01 * r();
  return { b };
}

function tokensFor(T: number, vocab: number, seed: number): string[] {
  const r = seededRandom(seed);
  return Array.from({ length: T }, () => `w${Math.floor(r() * vocab)}`);
}

const OPTS = { permutations: 200, seed: 1 };

test('planted features: the same partner in both halves and the same kept set (stability near 1)', async () => {
  const T = 1600, F = 30;
  const a = sparseCodes(T, F, 2);
  const { b } = plantedCopy(a, 3);
  const s = await pairingStability(matrixSource(a), matrixSource(b), tokensFor(T, 40, 4), T / 2, OPTS);
  assert.equal(s.split, 800);
  assert.equal(s.eligible, F);
  assert.ok(s.partner.observed > 0.95, `partner agreement ${s.partner.observed}`);
  assert.ok(s.jaccard.observed > 0.9, `kept-set Jaccard ${s.jaccard.observed} (kept ${s.kept}, shared ${s.keptShared})`);
  assert.ok(s.kept[0] > F / 2, `kept ${s.kept}`);
  assert.equal(s.partner.p, 1 / 201);
  assert.equal(s.jaccard.p, 1 / 201);
  assert.ok(s.expectedAgreement < 0.1 && Math.abs(s.partner.nullMean - s.expectedAgreement) < 0.02, `chance ${s.expectedAgreement}, null mean ${s.partner.nullMean}`);
  assert.ok(s.agreeing >= Math.round(0.95 * F));
});

test('independent features: agreement at the rate independence predicts, inside the null', async () => {
  const T = 1600, F = 30;
  const a = sparseCodes(T, F, 5), b = sparseCodes(T, F, 6);
  const s = await pairingStability(matrixSource(a), matrixSource(b), tokensFor(T, 6, 7), T / 2, { ...OPTS, minCorrelation: -1 });
  assert.ok(s.eligible > 0);
  assert.ok(s.partner.observed < 0.35, `partner agreement ${s.partner.observed}`);
  assert.ok(Math.abs(s.partner.observed - s.expectedAgreement) < 4 * s.partner.nullSd + 0.05, `observed ${s.partner.observed} vs chance ${s.expectedAgreement}`);
  assert.ok(s.partner.p > 0.01, `p ${s.partner.p}`);
  assert.ok(s.kept[0] > 0 && s.kept[1] > 0, `kept ${s.kept}`);
  assert.ok(s.jaccard.observed < 0.3, `Jaccard ${s.jaccard.observed}`);
  assert.ok(s.jaccard.p > 0.01, `Jaccard p ${s.jaccard.p}`);
});

test('the expected agreement under independence is exact, and a feature with no partner is not counted', () => {
  // Half 1: B0..B3 → A0, A0, A1, A1; half 2: B0..B3 → A0, A1, A1, A1; B4 never correlates.
  const h1 = { aForEachB: Int32Array.of(0, 0, 1, 1, 0), corrForEachB: Float32Array.of(0.5, 0.5, 0.5, 0.5, 0), keptA: [0, 1], keptB: [0, 2] };
  const h2 = { aForEachB: Int32Array.of(0, 1, 1, 1, 0), corrForEachB: Float32Array.of(0.5, 0.5, 0.5, 0.5, 0), keptA: [0, 1], keptB: [0, 3] };
  const s = compareHalves(h1, h2, 2, { permutations: 50, seed: 2 });
  assert.equal(s.eligible, 4);
  assert.equal(s.agreeing, 3);
  assert.equal(s.partner.observed, 0.75);
  // n1 = (2, 2), n2 = (1, 3): (2·1 + 2·3) / 16.
  assert.equal(s.expectedAgreement, 0.5);
  assert.equal(s.keptShared, 1);
  assert.equal(s.jaccard.observed, 1 / 3);
});

test('the halves split at the document start nearest the middle', () => {
  // Documents of rows 0-2, 3-6, 7-9 (follows[t] = 1: row t + 1 continues row t).
  // Starts at 3 and 7 are equally near the middle (5): the earlier one.
  assert.equal(documentSplit(Uint8Array.of(1, 1, 0, 1, 1, 1, 0, 1, 1, 0)), 3);
  assert.equal(documentSplit(Uint8Array.of(1, 1, 1, 1, 0, 1, 1, 1, 1, 0)), 5);
});
