// Pairing stability: pair the layer pair on two disjoint halves of the corpus (the paper's
// correlation pairing and filter chain, pairLayer.ts, on each half) and compare.
// - partner agreement: of the B features that have a partner in both halves (best correlation
//   > 0 in each: a feature that never varies "pairs" with A feature 0 by default and would agree
//   trivially), the fraction whose best A feature is the same in both;
// - kept-set Jaccard: |K₁ ∩ K₂| / |K₁ ∪ K₂| of the two halves' kept (A, B) pairs.
// Each against independence: the second half's results relabelled by a random permutation of the
// B features (within the eligible ones for the agreement, of all of them for the kept set), which
// keeps both halves' marginals (how many B features each A feature attracts, how many pairs are
// kept) and breaks only which B is which; p = (1 + #{null ≥ observed}) / (1 + N). The expected
// agreement under independence is also given exactly: Σ_a n₁(a)·n₂(a) / |E|², with n_h(a) the
// eligible B features whose partner in half h is a.
// The halves split the rows at the document start nearest the middle, so no document is in both.
import { tokenRangeSource, type ActivationSource } from '../pair/activationSource.ts';
import type { ScoreWithNull } from '../pair/pairedScores.ts';
import { pairAndFilterLayer, type LayerPairingOptions } from '../pair/pairLayer.ts';
import { effectSize, nullMoments, nullPermutations, pValue } from '../similarity/permutationNull.ts';

export interface StabilityOptions extends Pick<LayerPairingOptions, 'mode' | 'minCorrelation' | 'minActivations' | 'memoryBudgetBytes' | 'tokenChunk'> {
  permutations: number;
  seed: number;
}

/** One half's pairing, as stability compares them. */
export interface HalfPairing {
  aForEachB: Int32Array;
  corrForEachB: Float32Array;
  keptA: number[];
  keptB: number[];
}

export interface PairingStability {
  /** Rows of each half (the first half is rows 0..split-1). */
  split: number;
  numTokens: number;
  /** B features with a partner in both halves, and how many of them agree. */
  eligible: number;
  agreeing: number;
  /** Σ_a n₁(a)·n₂(a) / |E|²: the agreement expected if the halves' partners were independent. */
  expectedAgreement: number;
  kept: [number, number];
  keptShared: number;
  partner: ScoreWithNull;
  jaccard: ScoreWithNull;
}

/** The first row of the document that starts nearest the middle (follows[t] = 1: row t + 1 continues row t). */
export function documentSplit(follows: ArrayLike<number>): number {
  const n = follows.length, mid = n / 2;
  let best = -1;
  for (let t = 1; t < n; t++) if (!follows[t - 1] && (best < 0 || Math.abs(t - mid) < Math.abs(best - mid))) best = t;
  return best < 0 ? Math.floor(mid) : best;
}

function summary(observed: number, nulls: Float64Array): ScoreWithNull {
  const n = nulls.length;
  const { nullMean, nullSd } = nullMoments(nulls);
  return { observed, nullMean, nullSd, effect: effectSize(observed, nullMean, nullSd), p: pValue(observed, nulls, 'described', true), permutations: n, saturated: false };
}

/** Eligible B features with the same partner in both halves, half 2 relabelled by perm (over positions in `eligible`). */
function agreeingCount(h1: HalfPairing, h2: HalfPairing, eligible: readonly number[], perm?: Int32Array): number {
  let same = 0;
  for (let i = 0; i < eligible.length; i++) {
    const b1 = eligible[i]!, b2 = eligible[perm ? perm[i]! : i]!;
    if (h1.aForEachB[b1] === h2.aForEachB[b2]) same++;
  }
  return same;
}

/** Jaccard of kept (A, B) pair sets, half 2's B features relabelled by perm (b ↦ perm⁻¹(b) as in the agreement). */
function keptJaccard(h1: HalfPairing, h2: HalfPairing, numB: number, perm?: Int32Array): { jaccard: number; shared: number } {
  const partnerIn1 = new Int32Array(numB).fill(-1);
  h1.keptB.forEach((b, i) => (partnerIn1[b] = h1.keptA[i]!));
  let inverse: Int32Array | undefined;
  if (perm) {
    inverse = new Int32Array(numB);
    for (let i = 0; i < numB; i++) inverse[perm[i]!] = i;
  }
  let shared = 0;
  h2.keptB.forEach((b, i) => {
    if (partnerIn1[inverse ? inverse[b]! : b] === h2.keptA[i]) shared++;
  });
  const union = h1.keptB.length + h2.keptB.length - shared;
  return { jaccard: union > 0 ? shared / union : Number.NaN, shared };
}

/** Stability of two halves' pairings (pure: the pairings are given). */
export function compareHalves(h1: HalfPairing, h2: HalfPairing, numA: number, opts: { permutations: number; seed: number }): Omit<PairingStability, 'split' | 'numTokens'> {
  const numB = h1.aForEachB.length;
  const eligible: number[] = [];
  for (let b = 0; b < numB; b++) if (h1.corrForEachB[b]! > 0 && h2.corrForEachB[b]! > 0) eligible.push(b);
  const n1 = new Float64Array(numA), n2 = new Float64Array(numA);
  for (const b of eligible) {
    n1[h1.aForEachB[b]!]!++;
    n2[h2.aForEachB[b]!]!++;
  }
  let expected = 0;
  for (let a = 0; a < numA; a++) expected += n1[a]! * n2[a]!;
  expected = eligible.length ? expected / eligible.length ** 2 : Number.NaN;

  const fraction = (count: number) => (eligible.length ? count / eligible.length : Number.NaN);
  const agreeing = agreeingCount(h1, h2, eligible);
  const observedKept = keptJaccard(h1, h2, numB);
  const partnerNull = new Float64Array(opts.permutations), jaccardNull = new Float64Array(opts.permutations);
  const partnerPerms = nullPermutations(eligible.length, opts.seed, 0, opts.permutations);
  const keptPerms = nullPermutations(numB, opts.seed + 1, 0, opts.permutations);
  for (let s = 0; s < opts.permutations; s++) {
    partnerNull[s] = fraction(agreeingCount(h1, h2, eligible, partnerPerms[s]!));
    jaccardNull[s] = keptJaccard(h1, h2, numB, keptPerms[s]!).jaccard;
  }
  return {
    eligible: eligible.length,
    agreeing,
    expectedAgreement: expected,
    kept: [h1.keptB.length, h2.keptB.length],
    keptShared: observedKept.shared,
    partner: summary(fraction(agreeing), partnerNull),
    jaccard: summary(observedKept.jaccard, jaccardNull),
  };
}

async function pairHalf(a: ActivationSource, b: ActivationSource, tokens: readonly string[], t0: number, t1: number, opts: StabilityOptions): Promise<HalfPairing> {
  const r = await pairAndFilterLayer(tokenRangeSource(a, t0, t1), tokenRangeSource(b, t0, t1), tokens.slice(t0, t1), {
    ...(opts.mode ? { mode: opts.mode } : {}),
    ...(opts.minCorrelation !== undefined ? { minCorrelation: opts.minCorrelation } : {}),
    ...(opts.minActivations !== undefined ? { minActivations: opts.minActivations } : {}),
    ...(opts.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: opts.memoryBudgetBytes } : {}),
    ...(opts.tokenChunk !== undefined ? { tokenChunk: opts.tokenChunk } : {}),
  });
  return { aForEachB: r.pairing.aForEachB, corrForEachB: r.pairing.corrForEachB, keptA: r.pairsA, keptB: r.pairsB };
}

/** Pair each half of the rows (split at `split`) and compare the two pairings. */
export async function pairingStability(a: ActivationSource, b: ActivationSource, tokens: readonly string[], split: number, opts: StabilityOptions): Promise<PairingStability> {
  const T = a.numTokens;
  if (!(split >= 2 && split <= T - 2)) throw new Error(`split at row ${split} of ${T} leaves a half with fewer than 2 rows`);
  const h1 = await pairHalf(a, b, tokens, 0, split, opts);
  const h2 = await pairHalf(a, b, tokens, split, T, opts);
  return { split, numTokens: T, ...compareHalves(h1, h2, a.numFeatures, opts) };
}
