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
  // Row perm[i] of B is copied before it is gathered from: a sequential 4n-byte copy the
  // prefetcher streams, then random reads that hit L1. Gathering from B in place misses cache and
  // TLB on most reads once B outgrows L2 (n = 2000: 2.1× slower; n = 8192: 3×).
  const row = new Float32Array(n);
  for (let i = Math.max(1, i0); i < i1; i++) {
    const base = (i * (i - 1)) / 2;
    // Permutations inner: row i of a stays in cache across the batch.
    for (let p = 0; p < perms.length; p++) {
      const perm = perms[p]!;
      const start = perm[i]! * n;
      row.set(bFull.subarray(start, start + n));
      // Four partial sums break the add-latency chain; their order is fixed, so is the score.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j + 3 < i; j += 4) {
        s0 += a[base + j]! * row[perm[j]!]!;
        s1 += a[base + j + 1]! * row[perm[j + 1]!]!;
        s2 += a[base + j + 2]! * row[perm[j + 2]!]!;
        s3 += a[base + j + 3]! * row[perm[j + 3]!]!;
      }
      for (; j < i; j++) s0 += a[base + j]! * row[perm[j]!]!;
      out[p]! += s0 + s1 + (s2 + s3);
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
