// When a score is pinned at (or near) its best value by the shape of the data rather than by any
// relation between the two sides: the rules measures declare as `saturation` (types.ts). A rule
// returns the reason as one sentence, or undefined when the score can mean something.
//
// The common yardstick: what independent rows of the same shape would score. Where that baseline
// is at least half-way from "unrelated" to the best value, the raw score says little (its effect
// against the permutation null may still say something; the null is drawn at the same shape).

/** Independent rows scoring at least this fraction of the way to the best value: saturated. */
export const SATURATION_BASELINE = 0.5;

const f2 = (v: number) => v.toFixed(2);

/**
 * CCA of kA and kB kept directions of n column-centred rows, whose span has at most n − 1
 * dimensions: at least kA + kB − (n − 1) canonical correlations are 1 whatever the rows hold, all
 * of them once max(kA, kB) reaches n − 1; and with fewer than 2·max(kA, kB) rows the rest are
 * inflated towards 1 (independent Gaussian rows: SVCCA 0.98 at n = 100, d = 512).
 */
export function componentSaturation(n: number, kA: number, kB: number): string | undefined {
  const k = Math.max(kA, kB);
  const forced = Math.max(0, kA + kB - (n - 1));
  if (k >= n - 1) return `kept ${kA} and ${kB} directions of ${n} rows: ${n - 1} directions span every centred row set, so every canonical correlation is 1 by construction`;
  if (n < 2 * k) {
    const pinned = forced > 0 ? `; ${forced} of the canonical correlations are 1 by construction` : '';
    return `kept ${kA} and ${kB} directions of only ${n} rows (fewer than 2 × ${k}): canonical correlations of so few rows are near 1 even for independent rows${pinned}`;
  }
  return undefined;
}

/** tr(G)² / ‖G‖²_F of a Gram matrix: how many equally strong directions its spectrum amounts to. */
export function effectiveRank(trace: number, frobeniusSquared: number): number {
  return frobeniusSquared > 0 ? (trace * trace) / frobeniusSquared : 0;
}

/**
 * Gram-based scores (biased CKA, Procrustes) of n rows whose Grams have effective ranks rA, rB:
 * when the rows are few for their spread, √(rA·rB)/rows approaches 1 — the rows are then nearly
 * orthogonal with equal norms, and independent rows score near the best. For biased linear CKA
 * this ratio with rows = n − 1 (centred) is its permutation-null mean to first order.
 */
export function spreadRatio(rows: number, rA: number, rB: number): number {
  return rows > 0 ? Math.sqrt(Math.max(0, rA) * Math.max(0, rB)) / rows : 0;
}

export function describeSpread(n: number, rA: number, rB: number, ratio: number): string {
  return `${n} rows are few for their spread (Gram effective ranks ${f2(rA)} and ${f2(rB)}, √(rA·rB) per row ${f2(ratio)})`;
}

/**
 * Mutual k-NN Jaccard among n rows: two random k-subsets of the n − 1 other rows share k²/(n − 1)
 * rows on average, i.e. a Jaccard index of c/(2k − c); once that baseline reaches
 * SATURATION_BASELINE (k ≥ ⅔·(n − 1), always so when k is capped at n − 2) the score is near its
 * best for unrelated rows.
 */
export function neighbourSaturation(n: number, k: number): string | undefined {
  const shared = (k * k) / (n - 1);
  const baseline = shared / (2 * k - shared);
  if (!(baseline >= SATURATION_BASELINE)) return undefined;
  return `k = ${k} neighbours among the ${n - 1} other rows: random neighbour sets already share ${f2(shared)} of ${k} (Jaccard ${f2(baseline)}), at least ${Math.max(0, 2 * k - (n - 1))} by construction`;
}

/**
 * Mutual k-NN as Huh et al. score it, |N ∩ N'|/k: two random k-subsets of the n − 1 other rows
 * share k²/(n − 1), a fraction k/(n − 1) of k; saturated once that reaches SATURATION_BASELINE.
 */
export function sharedFractionSaturation(n: number, k: number): string | undefined {
  const baseline = k / (n - 1);
  if (!(baseline >= SATURATION_BASELINE)) return undefined;
  return `k = ${k} neighbours among the ${n - 1} other rows: random neighbour sets already share ${f2(baseline)} of their rows, at least ${Math.max(0, 2 * k - (n - 1))} of ${k} by construction`;
}
