// CKNNA, centred kernel nearest-neighbour alignment (Huh et al. 2024, "The Platonic
// Representation Hypothesis"; metrics.py `cknna` of minyoungg/platonic-rep, unbiased variant,
// which is their default), on rows unit-normalised as their measure_alignment.py does:
//   K = XXᵀ, L = YYᵀ (cosines); N_K(i) = the k rows j ≠ i of largest K_ij (k = 10);
//   mask_ij = [j ∈ N_K(i)]·[j ∈ N_L(i)] — row-wise, so not symmetric;
//   sim(K, L) = HSIC_u(mask∘K, mask∘L), Song et al.'s unbiased HSIC with its tr(K̃L̃) term taken
//   literally on these non-symmetric matrices (Σ_ij A_ij·B_ji);
//   CKNNA = sim(K, L) / √(sim(K, K)·sim(L, L)), where sim(K, K) masks K by N_K alone.
// Their code divides by √(…) + 1e-6, a division guard that shrinks the value by a relative
// 1e-6/√(…) — 1e-3 at n = 1000 — and depends on n; this is the plain ratio, and 0 where the
// denominator is not positive (HSIC_u of a masked kernel can be ≤ 0; theirs gives NaN there).
//
// Not symmetric: with A = mask∘K, B = mask∘L the term 1ᵀAB1 ≠ 1ᵀBA1 in general, so
// cknna(x, y) ≠ cknna(y, x) (the declared property, which the property tests check).
//
// Cost: the masked kernels have at most k entries per row, all among the k-NN lists with their
// cosines that ONNX already returned (neighbours.ts), so every term is O(n·k) plus an O(k) look-up
// per entry for A_ij·B_ji. Null: permuting y relabels its lists and leaves sim(L, L) unchanged,
// so a permuted score recomputes only sim(K, L).
import { unbiasedHsic } from './ckaDebiased.ts';
import { inversePermutation, neighbourCount, neighbourGraph, type NeighbourGraph } from './neighbours.ts';
import type { Measure } from './types.ts';

/** A masked pair of kernels in compressed rows: row i's entries j = cols[i·k + t], t < len[i]. */
interface MaskedPair {
  n: number;
  k: number;
  len: Int32Array;
  cols: Int32Array;
  a: Float64Array;
  b: Float64Array;
}

/** mask∘K and mask∘L of x's and (permuted) y's neighbour graphs; y's row i is y row perm[i]. */
function maskedPair(gx: NeighbourGraph, gy: NeighbourGraph, perm?: Int32Array): MaskedPair {
  const { n, k } = gx;
  const stamp = new Int32Array(n).fill(-1);
  const slot = new Int32Array(n);
  const inverse = perm ? inversePermutation(perm) : undefined;
  const len = new Int32Array(n), cols = new Int32Array(n * k);
  const a = new Float64Array(n * k), b = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const src = perm ? perm[i]! : i;
    for (let t = 0; t < k; t++) {
      const raw = gy.indices[src * k + t]!;
      const j = inverse ? inverse[raw]! : raw;
      stamp[j] = i;
      slot[j] = src * k + t;
    }
    let w = 0;
    for (let t = 0; t < k; t++) {
      const j = gx.indices[i * k + t]!;
      if (stamp[j] !== i) continue;
      cols[i * k + w] = j;
      a[i * k + w] = gx.cosines[i * k + t]!;
      b[i * k + w++] = gy.cosines[slot[j]!]!;
    }
    len[i] = w;
  }
  return { n, k, len, cols, a, b };
}

/** HSIC_u(A, B) of a masked pair (both have zero diagonals: self is never a neighbour). */
function maskedHsic(m: MaskedPair): number {
  const { n, k, len, cols, a, b } = m;
  const colA = new Float64Array(n), rowB = new Float64Array(n);
  let totalA = 0, totalB = 0, trace = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < len[i]!; t++) {
      const at = i * k + t, j = cols[at]!;
      totalA += a[at]!;
      totalB += b[at]!;
      colA[j]! += a[at]!;
      rowB[i]! += b[at]!;
      // tr(AB) = Σ_ij A_ij·B_ji: B_ji is present only when i is in row j's mask.
      for (let u = 0; u < len[j]!; u++) {
        if (cols[j * k + u] === i) {
          trace += a[at]! * b[j * k + u]!;
          break;
        }
      }
    }
  }
  let rowDot = 0;
  for (let j = 0; j < n; j++) rowDot += colA[j]! * rowB[j]!;
  return unbiasedHsic(n, trace, totalA, totalB, rowDot);
}

function ratio(cross: number, selfX: number, selfY: number): number {
  const denom = selfX * selfY;
  return denom > 0 ? cross / Math.sqrt(denom) : 0;
}

/** A minimum of k = 2 neighbours, as theirs requires. */
function cknnaK(n: number, opts?: { k?: number }): number {
  return Math.max(2, neighbourCount(n, opts));
}

export const cknna: Measure = {
  name: 'cknna',
  description: 'CKNNA (Huh et al. 2024): unbiased CKA of the cosine kernels restricted to each row\'s mutual k nearest neighbours (k = 10); not symmetric',
  properties: { symmetric: false, largerIsMoreSimilar: true, invariances: { orthogonal: true, isotropicScaling: true, translation: false, permutationOfColumns: true } },
  minRows: 4,
  async score(x, y, opts) {
    const k = cknnaK(x.rows, opts);
    const gx = await neighbourGraph(x, k), gy = await neighbourGraph(y, k);
    return { score: ratio(maskedHsic(maskedPair(gx, gy)), maskedHsic(maskedPair(gx, gx)), maskedHsic(maskedPair(gy, gy))), extras: { k } };
  },
  async prepareNull(x, y, opts) {
    const k = cknnaK(x.rows, opts);
    const gx = await neighbourGraph(x, k), gy = await neighbourGraph(y, k);
    const selfX = maskedHsic(maskedPair(gx, gx)), selfY = maskedHsic(maskedPair(gy, gy));
    return {
      extras: { k },
      batchSize: 16,
      scorePermuted: async (perms) => Float64Array.from(perms, (p) => ratio(maskedHsic(maskedPair(gx, gy, p)), selfX, selfY)),
    };
  },
};
