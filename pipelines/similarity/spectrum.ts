// Small dense decompositions (d×d eigen on flat arrays, k1×k2 SVD through ml-matrix), and batched
// nuclear norms through ONNX polar (Newton–Schulz-type) iterations for the thousands of k1×k2
// matrices of a null.
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { Mat } from '../kernels/gemm.ts';
import { symmetricEigenDecomposition } from './symmetricEigenvalues.ts';
import { permutedCross, permutedSpectra, polarStep, type OddQuintic, type PermutedSpectraSchedule } from './graphs.ts';

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvectors as the columns of a d×d matrix, in the order of `values`. */
  vectors: Matrix;
}

export function symmetricEigen(a: ArrayLike<number>, d: number): SymmetricEigen {
  const e = symmetricEigenDecomposition(a, d);
  const vectors = new Matrix(d, d);
  for (let r = 0; r < d; r++) vectors.setRow(r, e.vectors.subarray(r * d, (r + 1) * d));
  return { values: e.values, vectors };
}

export function toMatrix(data: ArrayLike<number>, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]!);
  return m;
}

/** Singular values, largest first (min(rows, cols) of them). */
export function singularValues(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (rows === 0 || cols === 0) return new Float64Array(0);
  const svd = new SingularValueDecomposition(toMatrix(data, rows, cols), { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
  return Float64Array.from(svd.diagonal.slice(0, Math.min(rows, cols)));
}

/**
 * Which polynomial steps a batch of nuclear norms takes: `lead` runs on every matrix, then
 * `finish` (an odd quintic, or the cubic when undefined) repeats until each matrix's trace settles,
 * at most `maxFinish` times.
 */
export interface PolarSchedule {
  lead: readonly OddQuintic[];
  finish?: OddQuintic;
  maxFinish: number;
  /**
   * A bound on what a matrix's trace still misses after a finishing step that moved X by
   * `change` (Frobenius norm); without it, a matrix is done when its trace stops moving.
   */
  remaining?: (change: number) => number;
}

/** The Muon optimizer's quintic: lifts small σ by ×3.44 per step into [0.7, 1.2], tolerates σ up to ~1.3. */
const MUON: OddQuintic = [3.4445, -4.775, 2.0315];

/**
 * Singular values up to ~1.3 (a scale estimate with a margin): `quinticSteps` Muon steps lift
 * σ ≥ ~3.44^-steps into the cubic's fast range, then cubic steps until the trace settles.
 */
export function muonSchedule(quinticSteps = 8): PolarSchedule {
  return { lead: Array.from({ length: quinticSteps }, () => MUON), maxFinish: 30 };
}

/**
 * Singular values in [0, 1.001] (canonical correlations, f32-rounded): the greedy minimax odd
 * quintics of Polar Express (Amsel, Persson, Musco, Gower 2025) for the interval [1e-3, 1.001],
 * each the best degree-5 approximation of 1 on the interval the previous one leaves (computed by
 * linear-programming minimax on a dense grid). After the six steps every σ ≥ 1e-3 is within
 * ~1e-3 of 1, and σ·|1 − p(σ)| ≤ 9e-4 over all of [0, 1] (a σ < 1e-3 costs at most itself);
 * each finishing step (1.875, −1.25, 0.375) maps 1 − e to 1 − 2.5e³ + O(e⁴). A finishing step
 * that moved X by D (Frobenius) saw every deviation e_i ≤ D of the σ near 1, so what the trace
 * still misses there is Σσ_i·2.5e_i³ ≤ 2.5·D³; a σ the steps left far below 1 moves X visibly
 * (keeping D large) unless it is so small (≲ 1e-5) that it costs at most itself. Simulated on the
 * scalar maps over every spectrum with one σ repeated (1e-7..1, alone or with half the σ in
 * [0.05, 0.5]) at r = 486: mean error ≤ 1e-6. Null spectra (σ in [0.05, 0.5]) stop after one
 * finishing step: seven steps instead of the Muon schedule's eight quintic plus up to thirty
 * cubic ones.
 */
export const UNIT_SPECTRUM_SCHEDULE: PolarSchedule = {
  lead: [
    [8.461910510820125, -25.03307257519526, 18.536544313162477],
    [4.182906951471184, -3.108751744284467, 0.5806124806196875],
    [3.9621266469302263, -2.9542536876259273, 0.5629977759688118],
    [3.2872591489292047, -2.465223389661108, 0.5074146635772354],
    [2.274304265813802, -1.645162042255941, 0.41624499073940374],
    [1.888765862080086, -1.2652107534244315, 0.3765234209864001],
  ],
  finish: [1.875, -1.25, 0.375],
  maxFinish: 8,
  remaining: (change) => 2.5 * change ** 3,
};

/**
 * Nuclear norms (sums of singular values) of a batch of r×c matrices whose singular values the
 * schedule admits. Polar steps drive every singular value σ to 1 while the singular vectors stay
 * fixed, so trace(Xᵀ·M) → Σσ; a σ the steps cannot lift contributes at most σ to the error. Each
 * matrix's norm is its trace at the first finishing step after which it misses no more than
 * `tol`·min(r, c) (the schedule's `remaining` bound; without one, a trace that moved by no more
 * than that, +1e-7 relative): decided per matrix, so a matrix gets the same norm whichever others
 * share its batch (the null's observed score is the identity permutation's, scored alone).
 */
export async function nuclearNormsBatched(m: Float32Array, batch: number, r: number, c: number, schedule: PolarSchedule, tol = 1e-7): Promise<Float64Array> {
  const dims: [number, number, number] = [batch, r, c];
  let x = m;
  let prev: Float32Array | undefined;
  for (const poly of schedule.lead) {
    const step = await polarStep(x, m, dims, poly);
    x = step.x;
    prev = step.trace;
  }
  const out = new Float64Array(batch);
  const done = new Uint8Array(batch);
  let open = batch;
  for (let s = 0; s < schedule.maxFinish && open > 0; s++) {
    const step = await polarStep(x, m, dims, schedule.finish);
    x = step.x;
    for (let b = 0; b < batch; b++) {
      if (done[b]) continue;
      out[b] = step.trace[b]!;
      const settled = schedule.remaining
        ? schedule.remaining(Math.sqrt(step.change[b]!)) <= tol * Math.min(r, c)
        : prev !== undefined && Math.abs(step.trace[b]! - prev[b]!) <= tol * Math.min(r, c) + 1e-7 * Math.abs(step.trace[b]!);
      if (settled) {
        done[b] = 1;
        open--;
      }
    }
    prev = step.trace;
  }
  return out;
}

/**
 * The null's spectra of permuted cross products of orthonormal bases (permutedSpectra): each M
 * scaled by a power estimate of its largest σ (×1.1, rounded up; the quintics tolerate σ' up
 * to 1.05, so an estimate down to σ_max/1.155 is enough), then the greedy minimax odd quintics of
 * Polar Express for [0.05, 1.05] (computed as UNIT_SPECTRUM_SCHEDULE's, by linear-programming
 * minimax on a dense grid), which leave every σ' of that interval within 8e-3 of 1 (so every
 * ε = f² − 1 within 0.017), then the third-order finish of permutedSpectraGraph (remainder
 * ≤ 0.44·ε⁴ ≤ 4e-8 relative). A permuted canonical-correlation spectrum fills a Wachter bulk well
 * inside the interval once scaled (at 8192 rows × 486/751 bases, σ in ≈ [0.06, 0.53], σ' in
 * ≈ [0.11, 0.97]), so three steps and the finish do what the unit schedule does in seven or eight.
 */
const SCALED_SPECTRUM_SCHEDULE: PermutedSpectraSchedule = {
  key: 'scaled-0.05-1.05',
  lead: [
    [6.4948409602331, -16.079449111981074, 10.555393300668534],
    [2.572582040643478, -1.9037748859778552, 0.44449082906695464],
    [1.9343769293986215, -1.314502532376238, 0.38150644071649653],
  ],
  powerSteps: 10,
  margin: 1.1,
};

/** Largest Σε⁴ (permutedSpectraGraph's `spread`) under which its remainder bound holds: every |ε| ≤ 0.1. */
const SPREAD_LIMIT = 1e-4;

/**
 * Nuclear norms of Lᵀ·P·R for each permutation P, where L (given transposed) and R have
 * orthonormal columns, so every σ ≤ 1 (SVCCA's null). First the scaled schedule above, whose
 * trace is kept where every direction converged (spread ≤ SPREAD_LIMIT: a σ' above the interval
 * is thrown far by the quintics, one below it is lifted only in part, an exact zero not at all)
 * and the bound on what it misses is at most `tol`·min(r, c). Any other matrix, or one whose
 * trace is not finite, is scored again from M by the unit schedule (nuclearNormsBatched), or by
 * `fallback` where σ may exceed 1 (the power estimate makes the fast route scale-free;
 * Procrustes' null). Decided per matrix, so a matrix gets the same norm whichever others share
 * its batch.
 */
export async function permutedCanonicalNorms(
  leftT: Mat,
  right: Mat,
  perms: readonly Int32Array[],
  opts: { tol?: number; stats?: { rescored: number }; fallback?: (perms: readonly Int32Array[]) => Promise<Float64Array> } = {},
): Promise<Float64Array> {
  const tol = opts.tol ?? 1e-7;
  const r = Math.min(leftT.rows, right.cols);
  const fast = await permutedSpectra(leftT, right, perms, SCALED_SPECTRUM_SCHEDULE);
  const out = new Float64Array(perms.length);
  const again: number[] = [];
  perms.forEach((_, b) => {
    if (Number.isFinite(fast.trace[b]!) && fast.spread[b]! <= SPREAD_LIMIT && fast.miss[b]! <= tol * r) out[b] = fast.trace[b]!;
    else again.push(b);
  });
  if (opts.stats) opts.stats.rescored += again.length;
  if (again.length > 0) {
    const redo = again.map((b) => perms[b]!);
    const norms = opts.fallback
      ? await opts.fallback(redo)
      : await nuclearNormsBatched(await permutedCross(leftT, right, redo), again.length, leftT.rows, right.cols, UNIT_SPECTRUM_SCHEDULE, tol);
    again.forEach((b, i) => (out[b] = norms[i]!));
  }
  return out;
}

/**
 * The orthogonal polar factor U·Vᵀ of an r×c matrix M = U·Σ·Vᵀ (the orthogonal Procrustes
 * rotation, semi-orthogonal when r ≠ c) by the Muon schedule's steps (muonSchedule), on ONNX: M
 * scaled to unit Frobenius norm (so every σ ≤ 1), quintic steps, then cubic steps until
 * trace(Xᵀ·M) stops moving. A direction whose σ is below ~3.44^-steps of ‖M‖_F is not lifted and stays near 0 in the
 * result (it carries almost none of M). No r×c SVD in JS (ml-matrix needs ~12 s at 512×512).
 */
export async function polarFactor(m: ArrayLike<number>, r: number, c: number, tol = 1e-7): Promise<Float32Array> {
  let ss = 0;
  for (let i = 0; i < m.length; i++) ss += m[i]! * m[i]!;
  if (!(ss > 0)) return new Float32Array(m.length);
  const inv = 1 / Math.sqrt(ss);
  const scaled = Float32Array.from(m, (v) => v * inv);
  const dims: [number, number, number] = [1, r, c];
  const schedule = muonSchedule();
  let x: Float32Array = scaled;
  for (const poly of schedule.lead) x = (await polarStep(x, scaled, dims, poly)).x;
  let prev: number | undefined;
  for (let s = 0; s < schedule.maxFinish; s++) {
    const step = await polarStep(x, scaled, dims, schedule.finish);
    x = step.x;
    const t = step.trace[0]!;
    if (prev !== undefined && Math.abs(t - prev) <= tol * Math.min(r, c) + 1e-7 * Math.abs(t)) break;
    prev = t;
  }
  return x;
}
