// Eigenvalues (no vectors) of a dense symmetric matrix in f64: Householder reduction to
// tridiagonal form, then implicit QL iterations with Wilkinson-style shifts. ml-matrix's
// EigenvalueDecomposition always accumulates eigenvectors through Matrix get/set and needs ~6 s
// at d = 512; this works on flat typed arrays and skips the vectors, so d = 512 takes a fraction
// of a second — the Procrustes score needs only the spectrum of a d×d Gram.

/** Eigenvalues of the symmetric d×d row-major matrix `a` (not modified), largest first. */
export function symmetricEigenvalues(a: ArrayLike<number>, d: number): Float64Array {
  if (d === 0) return new Float64Array(0);
  const { diag, off } = tridiagonalise(Float64Array.from({ length: d * d }, (_, i) => a[i]!), d);
  tridiagonalQl(diag, off);
  return diag.sort().reverse();
}

/**
 * Householder similarity transforms H = I − 2vvᵀ on the trailing block, column by column, so
 * that the result is tridiagonal: diagonal `diag`, sub-diagonal `off[k]` between k and k + 1.
 * The trailing update A ← HAH is done as A − 2vqᵀ − 2qvᵀ with p = Av, q = p − (vᵀp)v.
 */
function tridiagonalise(m: Float64Array, d: number): { diag: Float64Array; off: Float64Array } {
  const diag = new Float64Array(d);
  const off = new Float64Array(d);
  const v = new Float64Array(d);
  const p = new Float64Array(d);
  for (let k = 0; k < d - 2; k++) {
    const s = k + 1;
    let norm = 0;
    for (let i = s; i < d; i++) norm += m[i * d + k]! * m[i * d + k]!;
    norm = Math.sqrt(norm);
    const x0 = m[s * d + k]!;
    const alpha = x0 > 0 ? -norm : norm;
    diag[k] = m[k * d + k]!;
    off[k] = alpha;
    for (let i = s; i < d; i++) v[i] = m[i * d + k]!;
    v[s] = x0 - alpha;
    let vv = 0;
    for (let i = s; i < d; i++) vv += v[i]! * v[i]!;
    if (vv === 0) continue; // the column is already reduced
    const inv = 1 / Math.sqrt(vv);
    for (let i = s; i < d; i++) v[i] = v[i]! * inv;
    let vp = 0;
    for (let i = s; i < d; i++) {
      let acc = 0;
      const row = i * d;
      for (let j = s; j < d; j++) acc += m[row + j]! * v[j]!;
      p[i] = acc;
      vp += v[i]! * acc;
    }
    for (let i = s; i < d; i++) p[i] = p[i]! - vp * v[i]!;
    for (let i = s; i < d; i++) {
      const row = i * d;
      const vi = 2 * v[i]!, pi = 2 * p[i]!;
      for (let j = s; j < d; j++) m[row + j] = m[row + j]! - vi * p[j]! - pi * v[j]!;
    }
  }
  if (d >= 2) {
    diag[d - 2] = m[(d - 2) * d + d - 2]!;
    off[d - 2] = m[(d - 1) * d + d - 2]!;
  }
  diag[d - 1] = m[(d - 1) * d + d - 1]!;
  off[d - 1] = 0;
  return { diag, off };
}

const MAX_SWEEPS = 60;

/** Implicit QL on a symmetric tridiagonal matrix: `diag` becomes its eigenvalues (unordered). */
function tridiagonalQl(diag: Float64Array, off: Float64Array): void {
  const n = diag.length;
  // Off-diagonals below eps·‖T‖ are dropped as well as those small next to their diagonal
  // neighbours: without that floor a rank-deficient block (all entries ~eps·‖T‖) can cycle.
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diag[i]!) + Math.abs(off[i]!) + (i > 0 ? Math.abs(off[i - 1]!) : 0));
  const floor = Number.EPSILON * norm;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(diag[m]!) + Math.abs(diag[m + 1]!);
        if (Math.abs(off[m]!) <= Math.max(Number.EPSILON * dd, floor)) break;
      }
      if (m === l) break;
      if (iter === MAX_SWEEPS) throw new Error(`symmetricEigenvalues: no convergence after ${MAX_SWEEPS} QL sweeps`);
      let g = (diag[l + 1]! - diag[l]!) / (2 * off[l]!);
      let r = Math.hypot(g, 1);
      g = diag[m]! - diag[l]! + off[l]! / (g + (g >= 0 ? r : -r));
      let s = 1, c = 1, p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * off[i]!, b = c * off[i]!;
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) {
          // An exact zero split the matrix: undo the pending shift and start the sweep again.
          diag[i + 1] = diag[i + 1]! - p;
          off[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1]! - p;
        r = (diag[i]! - g) * s + 2 * c * b;
        p = s * r;
        diag[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      diag[l] = diag[l]! - p;
      off[l] = g;
      off[m] = 0;
    }
  }
}
