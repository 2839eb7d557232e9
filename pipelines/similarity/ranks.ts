// Spearman needs the ranks of tens of millions of RDM entries (n = 8192 rows → 33.5 M pairs).
// A comparison argsort in JS takes tens of seconds at that size; an LSD radix sort on the f32 bit
// patterns (four 8-bit passes: few enough buckets that the scattered writes stay cache-friendly)
// takes a few seconds and gives exact ranks, ties averaged as scipy.stats.rankdata does.

/** Maps f32 bit patterns to unsigned keys with the same order (−0 and +0 equal). */
function sortKeys(values: Float32Array): Uint32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const keys = new Uint32Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    let u = bits[i]!;
    if (u === 0x80000000) u = 0;
    keys[i] = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
  }
  return keys;
}

const RADIX_BITS = 8;
const BUCKETS = 1 << RADIX_BITS;

export interface Sorted {
  /** Indices that sort the values ascending (stable). */
  order: Uint32Array;
  /** The order-preserving keys of the values, sorted: equal keys are equal values. */
  keys: Uint32Array;
}

export function argsortFloat32(values: Float32Array): Sorted {
  const m = values.length;
  let keys: Uint32Array = sortKeys(values);
  let idx: Uint32Array = new Uint32Array(m);
  for (let i = 0; i < m; i++) idx[i] = i;
  let keysOut: Uint32Array = new Uint32Array(m);
  let idxOut: Uint32Array = new Uint32Array(m);
  const counts = new Uint32Array(BUCKETS);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let i = 0; i < m; i++) counts[(keys[i]! >>> shift) & (BUCKETS - 1)]!++;
    let total = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[b]!;
      counts[b] = total;
      total += c;
    }
    for (let i = 0; i < m; i++) {
      const k = keys[i]!;
      const dst = counts[(k >>> shift) & (BUCKETS - 1)]!++;
      keysOut[dst] = k;
      idxOut[dst] = idx[i]!;
    }
    [keys, keysOut] = [keysOut, keys];
    [idx, idxOut] = [idxOut, idx];
  }
  return { order: idx, keys };
}

/**
 * Replaces `values` by their ranks (ties averaged), centred and scaled to unit length, so the
 * Spearman correlation of two such vectors is their dot product. A constant vector becomes all
 * zeros (its rank correlation with anything is taken as 0, not NaN).
 */
export function zScoredRanksInPlace(values: Float32Array): void {
  const m = values.length;
  const { order, keys } = argsortFloat32(values);
  const center = (m - 1) / 2; // mean of 0-based ranks
  // Pass 1 (sequential over the sorted keys): the sum of squared centred ranks, ties averaged.
  let ss = 0;
  for (let a = 0; a < m; ) {
    let b = a + 1;
    const k = keys[a]!;
    while (b < m && keys[b] === k) b++;
    const c = (a + b - 1) / 2 - center;
    ss += (b - a) * c * c;
    a = b;
  }
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  // Pass 2: each value replaced by its scaled rank.
  for (let a = 0; a < m; ) {
    let b = a + 1;
    const k = keys[a]!;
    while (b < m && keys[b] === k) b++;
    const z = ((a + b - 1) / 2 - center) * inv;
    for (let t = a; t < b; t++) values[order[t]!] = z;
    a = b;
  }
}
