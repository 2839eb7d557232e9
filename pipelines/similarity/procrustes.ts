// Orthogonal Procrustes relative error: each side scaled to unit Frobenius norm (no centring),
// the narrower side zero-padded to the wider width (as the original's adjust_dimensionality), then
//   min_R ‖X̂R − Ŷ‖_F / ‖Ŷ‖_F = sqrt(2 − 2·‖X̂ᵀŶ‖_*)
// (RMSE of the best rotation's fit relative to the RMS of the target). Zero padding does not
// change the nuclear norm of X̂ᵀŶ, so no padded matrix is built. This reproduces the reference's
// procrustes_rel_rmse, whose rows have unit norm so that ‖X‖ = ‖Y‖ there; the scaling makes the
// score symmetric and scale-free in general. A distance: 0 = identical up to rotation.
//
// Speed: the nuclear norm is the sum of square roots of the eigenvalues of the cross product's
// Gram on its narrower side (f64, ONNX; eigenvalues only, no SVD of the dA×dB product). Each side
// is first replaced by a row factor Z with Z·Zᵀ = X·Xᵀ — X itself, or W·Λ^½ from the n×n row
// Gram when there are far fewer rows than columns — since then X = Z·Qᵀ with orthonormal Q and
// ‖XᵀPY‖_* = ‖ZxᵀPZy‖_* for every row permutation P.
//
// Null: only ZxᵀPZy changes under a permutation, so its nuclear norm goes by SVCCA's fused route
// (permutedCanonicalNorms: gather, multiply, scale by a power estimate and a few polynomial steps
// in one ONNX call per batch); a product whose spectrum that route does not settle is gathered
// again and scaled to put its largest singular value just below 1 for batched Newton–Schulz.
// 1000 permutations of 2400 rows × 512/768: 23.6 s (87.4 s by Newton–Schulz alone). The null's
// observed score is the identity permutation's, by the same route.
//
// Saturation: rows that are few for their spread (nearly orthogonal, equal norms) can be rotated
// onto any other such rows, so the distance of unrelated rows is then near 0.
import type { Mat } from '../kernels/gemm.ts';
import { keptComponents } from './basis.ts';
import { crossProduct, crossProductGram, permutedCross } from './graphs.ts';
import { transpose } from './matrix.ts';
import { muonSchedule, nuclearNormsBatched, permutedCanonicalNorms, symmetricEigen } from './spectrum.ts';
import { batchFor } from './svcca.ts';
import { describeSpread, effectiveRank, SATURATION_BASELINE, spreadRatio } from './saturation.ts';
import { symmetricEigenvalues } from './symmetricEigenvalues.ts';
import type { Measure, MeasureResult, PreparedNull } from './types.ts';

/** Row Grams above this size are not decomposed (their eigenvectors cost seconds there). */
const MAX_ROW_GRAM = 512;

function frobenius(m: Mat): number {
  let s = 0;
  for (let i = 0; i < m.data.length; i++) s += m.data[i]! * m.data[i]!;
  return Math.sqrt(s);
}

/**
 * Z (n×k) with Z·Zᵀ = X·Xᵀ: X itself, or — when the rows number at most half the columns — the
 * kept eigenvectors of the row Gram scaled by the root of their eigenvalues (rank rule), which
 * shrinks every product of the null from d to at most n columns.
 */
export async function rowFactor(x: Mat): Promise<Mat> {
  if (2 * x.rows > x.cols || x.rows > MAX_ROW_GRAM) return x;
  const xt = transpose(x);
  const eig = symmetricEigen(await crossProduct(xt, xt, false), x.rows);
  if (!(eig.values[0]! > 0)) return x;
  const k = keptComponents(eig.values, 'rank');
  const z = new Float32Array(x.rows * k);
  for (let c = 0; c < k; c++) {
    const root = Math.sqrt(eig.values[c]!);
    for (let r = 0; r < x.rows; r++) z[r * k + c] = eig.vectors.get(r, c) * root;
  }
  return { data: z, rows: x.rows, cols: k };
}

/** ‖ZxᵀZy‖_* from the eigenvalues of the narrower Gram of the cross product. */
async function nuclearNorm(zx: Mat, zy: Mat): Promise<number> {
  const { gram, size } = await crossProductGram(zx, zy);
  return symmetricEigenvalues(gram, size).reduce((a, l) => a + Math.sqrt(Math.max(0, l)), 0);
}

function distance(normalisedNuclear: number): number {
  return Math.sqrt(Math.max(0, 2 - 2 * Math.min(1, normalisedNuclear)));
}

/** Effective rank of the row Gram X·Xᵀ = Z·Zᵀ, from the narrower Gram of the row factor Z. */
async function rowGramEffectiveRank(z: Mat): Promise<number> {
  let trace = 0;
  for (let i = 0; i < z.data.length; i++) trace += z.data[i]! * z.data[i]!;
  let ss = 0;
  for (const v of await crossProduct(z, z, false)) ss += v * v;
  return effectiveRank(trace, ss);
}

/** The observed score, the row factors and 1/(‖X‖_F·‖Y‖_F) the null reuses (0 for an all-zero side), and the extras. */
async function observed(x: Mat, y: Mat): Promise<{ result: MeasureResult; zx: Mat; zy: Mat; unit: number }> {
  const nx = frobenius(x), ny = frobenius(y);
  if (nx === 0 || ny === 0) return { result: { score: nx === ny ? 0 : Math.SQRT2, extras: { effRankA: 0, effRankB: 0 } }, zx: x, zy: y, unit: 0 };
  const zx = await rowFactor(x), zy = await rowFactor(y);
  const unit = 1 / (nx * ny);
  const extras = { effRankA: await rowGramEffectiveRank(zx), effRankB: await rowGramEffectiveRank(zy) };
  return { result: { score: distance((await nuclearNorm(zx, zy)) * unit), extras }, zx, zy, unit };
}

/** Power-iteration rounds for the estimate of each permuted product's largest singular value. */
const POWER_ROUNDS = 6;
/** The estimate (≤ σmax, and ≥ ~0.85·σmax after the rounds) is scaled up by this before dividing. */
const POWER_MARGIN = 1.25;
/** With σmax/scale ≥ 0.8, four quintic steps lift σ down to ~0.006·σmax into the cubic's fast range. */
const QUINTIC_STEPS = 4;

/**
 * A scale for one k1×k2 block B with σmax/scale ≤ 1 and not far below it: the Frobenius norm (a
 * sure upper bound, but up to √rank too large, which costs Newton–Schulz steps) or a margin over
 * a short power iteration on BᵀB, whichever is smaller. A deterministic start vector keeps nulls
 * reproducible.
 */
function blockScale(block: Float32Array, k1: number, k2: number, fro: number): number {
  let v = Float64Array.from({ length: k2 }, (_, j) => 1 + 0.5 * Math.sin(1 + 7.3 * j));
  const u = new Float64Array(k1);
  let estimate = 0;
  for (let round = 0; round < POWER_ROUNDS; round++) {
    let vv = 0;
    for (let j = 0; j < k2; j++) vv += v[j]! * v[j]!;
    const inv = 1 / Math.sqrt(vv);
    let uu = 0;
    for (let i = 0; i < k1; i++) {
      let acc = 0;
      const row = i * k2;
      for (let j = 0; j < k2; j++) acc += block[row + j]! * v[j]!;
      u[i] = acc * inv;
      uu += u[i]! * u[i]!;
    }
    estimate = Math.sqrt(uu); // ‖Bv‖ for unit v: at most σmax
    if (uu === 0) break;
    const w = new Float64Array(k2);
    for (let i = 0; i < k1; i++) {
      const row = i * k2, ui = u[i]!;
      for (let j = 0; j < k2; j++) w[j] = w[j]! + block[row + j]! * ui;
    }
    v = w;
  }
  return Math.min(fro, POWER_MARGIN * estimate) || fro;
}

/** Nuclear norms of the [B, k1, k2] blocks (modified: scaled in place), and their Frobenius norms. */
async function blockNuclearNorms(m: Float32Array, batch: number, k1: number, k2: number, tight: boolean): Promise<{ norms: Float64Array; fro: Float64Array }> {
  const size = k1 * k2;
  const scales = new Float64Array(batch);
  const frobeniusNorms = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const block = m.subarray(b * size, (b + 1) * size);
    let ss = 0;
    for (let i = 0; i < size; i++) ss += block[i]! * block[i]!;
    const fro = Math.sqrt(ss);
    frobeniusNorms[b] = fro;
    scales[b] = tight ? blockScale(block, k1, k2, fro) : fro;
    const inv = scales[b]! > 0 ? 1 / scales[b]! : 0;
    for (let i = 0; i < size; i++) block[i] = block[i]! * inv;
  }
  const norms = await nuclearNormsBatched(m, batch, k1, k2, muonSchedule(tight ? QUINTIC_STEPS : undefined));
  return { norms: norms.map((v, b) => v * scales[b]!), fro: frobeniusNorms };
}

/** Nuclear norms of the [B, k1, k2] blocks of m (not modified), each decided on its own block alone. */
async function permutedNuclearNorms(m: Float32Array, batch: number, k1: number, k2: number): Promise<Float64Array> {
  const r = Math.min(k1, k2);
  const size = k1 * k2;
  const { norms, fro } = await blockNuclearNorms(Float32Array.from(m), batch, k1, k2, true);
  // A power estimate far below σmax would let Newton–Schulz diverge (σ/scale > ~1.3), which
  // shows as a norm outside ‖B‖_F ≤ ‖B‖_* ≤ √rank·‖B‖_F: such blocks are redone with the
  // Frobenius scale, which is never below σmax. Only those blocks, so that a block's norm does not
  // depend on the others in its batch.
  const bad = [...norms.keys()].filter((b) => !(norms[b]! <= Math.sqrt(r) * fro[b]! * 1.001 && norms[b]! >= fro[b]! * 0.999));
  if (bad.length > 0) {
    const redo = new Float32Array(bad.length * size);
    bad.forEach((b, i) => redo.set(m.subarray(b * size, (b + 1) * size), i * size));
    const again = (await blockNuclearNorms(redo, bad.length, k1, k2, false)).norms;
    bad.forEach((b, i) => (norms[b] = again[i]!));
  }
  return norms;
}

async function prepareProcrustesNull(x: Mat, y: Mat): Promise<PreparedNull> {
  const { result, zx, zy, unit } = await observed(x, y);
  const zxT = transpose(zx);
  const [k1, k2] = [zx.cols, zy.cols];
  const r = Math.min(k1, k2);
  return {
    ...(result.extras ? { extras: result.extras } : {}),
    // Gathered rows of Zy, the products and their copy, iteration temporaries.
    batchSize: batchFor(4 * (x.rows * k2 + 6 * k1 * k2 + 2 * r * r)),
    async scorePermuted(perms) {
      if (unit === 0) return new Float64Array(perms.length).fill(result.score);
      // SVCCA's fused route first (scaled by a power estimate, three quintic steps, a series
      // finish); a product it does not settle (a spectrum reaching far below its largest σ) takes
      // the schedule here.
      const norms = await permutedCanonicalNorms(zxT, zy, perms, {
        fallback: async (redo) => permutedNuclearNorms(await permutedCross(zxT, zy, redo), redo.length, k1, k2),
      });
      return norms.map((v) => distance(v * unit));
    },
  };
}

export const procrustes: Measure = {
  name: 'procrustes',
  description: 'orthogonal Procrustes relative error of the unit-norm sides (0 = equal up to rotation; a distance)',
  properties: { symmetric: true, largerIsMoreSimilar: false, invariances: { orthogonal: true, isotropicScaling: true, translation: false, permutationOfColumns: true } },
  minRows: 2,
  async score(x, y) {
    return (await observed(x, y)).result;
  },
  prepareNull: (x, y) => prepareProcrustesNull(x, y),
  saturation(n, extras) {
    const ratio = spreadRatio(n, extras.effRankA ?? 0, extras.effRankB ?? 0);
    if (ratio < SATURATION_BASELINE) return undefined;
    return `${describeSpread(n, extras.effRankA!, extras.effRankB!, ratio)}: such rows are nearly orthogonal with equal norms, and a rotation aligns even unrelated ones, so the distance is near its best (0) by construction`;
  },
};
