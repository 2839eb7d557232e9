// The RSA null's one heavy loop: for each permutation, Σ_{i>j} a[i,j]·b[perm i, perm j] over the
// packed triangle a and the full symmetric b (both ranked once). It is a gather, not a product, so
// no ONNX kernel serves it; it runs in plain JS over fixed row segments of equal triangle area,
// on worker threads sharing a and b (SharedArrayBuffer) when the machine has more than one core.
// The segments' sums are added in segment order, so a score does not depend on the thread count
// or on which permutations share its batch.

/** Row segments of the triangle; fixed, so the summation order never changes. */
export const SEGMENTS = 4;

/** Rows [start_s, start_{s+1}) of segment s, each segment holding about 1/SEGMENTS of the triangle. */
export function segmentBounds(n: number): number[] {
  const bounds = [1];
  for (let s = 1; s < SEGMENTS; s++) bounds.push(Math.max(bounds[s - 1]!, Math.min(n, Math.round(n * Math.sqrt(s / SEGMENTS)))));
  bounds.push(n);
  return bounds;
}

/** Σ_{i in [i0, i1), j<i} a[i,j]·bFull[perm[i]·n + perm[j]] for each permutation (a packed, bFull n×n). */
export function triangleDotsRange(a: Float32Array, bFull: Float32Array, n: number, perms: readonly Int32Array[], i0: number, i1: number): Float64Array {
  const out = new Float64Array(perms.length);
  for (let i = Math.max(1, i0); i < i1; i++) {
    const base = (i * (i - 1)) / 2;
    // Permutations inner: row i of a stays in cache across the batch.
    for (let p = 0; p < perms.length; p++) {
      const perm = perms[p]!;
      const row = perm[i]! * n;
      let s = 0;
      for (let j = 0; j < i; j++) s += a[base + j]! * bFull[row + perm[j]!]!;
      out[p]! += s;
    }
  }
  return out;
}

/** The segment sums of `perms`, added in segment order. */
export function addSegments(parts: readonly Float64Array[], count: number): Float64Array {
  const out = new Float64Array(count);
  for (const part of parts) for (let p = 0; p < count; p++) out[p]! += part[p]!;
  return out;
}
