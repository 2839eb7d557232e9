// Cross-model feature retrieval: a number a reader understands without knowing SVCCA. The kept
// pairs are split (seeded) into training and held-out pairs; a map from A's decoder space to B's
// is fitted on the training pairs (crossMaps.ts: whitened orthogonal Procrustes, ridge); then for
// every held-out pair, B's whole dictionary is ranked by cosine to the mapped A row, and the
// partner's rank gives top-1 and top-10 accuracy and the mean reciprocal rank. The null: the same
// with the training pairs shuffled (each A row fitted against another pair's B row), N times,
// evaluated on the same held-out pairs; p = (1 + #{null ≥ observed}) / (1 + N).
// A retrieval that beats its null says the pairing carries a map that generalises to pairs it
// was not fitted on; chance is about k/|dictionary| for top-k.
import type { Mat } from '../kernels/gemm.ts';
import type { ScoreWithNull } from '../pair/pairedScores.ts';
import { permutationOf, seededRandom } from '../random.ts';
import { gatherRows } from '../similarity/matrix.ts';
import { effectSize, nullMoments, nullPermutations, pValue } from '../similarity/permutationNull.ts';
import { applySide, procrustesFitter, ridgeFitter, type FittedMap, type MapFitter } from './crossMaps.ts';
import type { MapKind } from './mapKinds.ts';
import { partnerRanks } from './partnerRanks.ts';

export const RETRIEVAL_STATS = ['top1', 'top10', 'mrr'] as const;
export type RetrievalStat = (typeof RETRIEVAL_STATS)[number];

/** Fewest kept pairs retrieval is run on (fewer leave too few pairs on one side of the split). */
export const MIN_RETRIEVAL_PAIRS = 10;

export interface RetrievalOptions {
  /** Fraction of the kept pairs the maps are fitted on (the rest are held out). */
  trainFraction: number;
  /** Ridge strength relative to the mean eigenvalue of XᵀX. */
  ridge: number;
  /** Shuffles of the training pairs in the null. */
  shuffles: number;
  seed: number;
  maps: readonly MapKind[];
}

export interface MapRetrieval {
  map: MapKind;
  /** Per statistic: the held-out score against the shuffled-training-pairs null. */
  scores: Record<RetrievalStat, ScoreWithNull>;
  /** The held-out partners' ranks under the fitted map (1 = nearest). */
  ranks: number[];
}

export type RetrievalResult =
  | { nTrain: number; nTest: number; dictionary: number; maps: MapRetrieval[] }
  | { skipped: string; requested: MapKind[] };

export function retrievalStats(ranks: ArrayLike<number>): Record<RetrievalStat, number> {
  let top1 = 0, top10 = 0, rr = 0;
  for (let i = 0; i < ranks.length; i++) {
    const r = ranks[i]!;
    if (r === 1) top1++;
    if (r <= 10) top10++;
    rr += 1 / r;
  }
  const n = ranks.length;
  return { top1: top1 / n, top10: top10 / n, mrr: rr / n };
}

/** Why a statistic is uninformative by construction for a dictionary of this size. */
function saturation(stat: RetrievalStat, dictionary: number): string | undefined {
  if (stat === 'top10' && dictionary <= 10) return `B's dictionary has ${dictionary} rows: every partner is among the top 10`;
  if (dictionary <= 1) return `B's dictionary has ${dictionary} row: every partner is ranked first`;
  return undefined;
}

function withNull(observed: number, nulls: Float64Array, stat: RetrievalStat, dictionary: number): ScoreWithNull {
  const n = nulls.length;
  const { nullMean, nullSd } = nullMoments(nulls);
  const reason = saturation(stat, dictionary);
  return {
    observed,
    nullMean,
    nullSd,
    effect: effectSize(observed, nullMean, nullSd),
    p: pValue(observed, nulls, 'described', true),
    permutations: n,
    saturated: reason !== undefined,
    ...(reason !== undefined ? { saturatedReason: reason } : {}),
  };
}

/** The seeded split of n pairs: training indices, then held-out ones. */
export function splitPairs(n: number, trainFraction: number, seed: number): { train: number[]; test: number[] } {
  const order = Array.from(permutationOf(n, seededRandom(seed)));
  const nTrain = Math.min(n - 1, Math.max(2, Math.round(n * trainFraction)));
  return { train: order.slice(0, nTrain), test: order.slice(nTrain) };
}

/**
 * Retrieval of B partners for held-out kept pairs. decA/decB: the two SAEs' whole decoders
 * (F × d); pairsA[i] ↔ pairsB[i] the kept pairs.
 */
export async function crossModelRetrieval(decA: Mat, decB: Mat, pairsA: readonly number[], pairsB: readonly number[], opts: RetrievalOptions): Promise<RetrievalResult> {
  const n = pairsA.length;
  if (pairsB.length !== n) throw new Error(`${n} A features for ${pairsB.length} B features`);
  if (n < MIN_RETRIEVAL_PAIRS) return { skipped: `${n} pair${n === 1 ? '' : 's'}, retrieval needs at least ${MIN_RETRIEVAL_PAIRS}`, requested: [...opts.maps] };
  const { train, test } = splitPairs(n, opts.trainFraction, opts.seed);
  const x = gatherRows(decA, train.map((i) => pairsA[i]!));
  const y = gatherRows(decB, train.map((i) => pairsB[i]!));
  const heldA = gatherRows(decA, test.map((i) => pairsA[i]!));
  const partners = test.map((i) => pairsB[i]!);
  // The candidate side depends on B's training rows only (never on the pairing): projected once per map.
  const candidates = new Map<object, Mat>();
  const ranksOf = async (m: FittedMap): Promise<Int32Array> => {
    const key = m.candidate?.matrix ?? decB;
    if (!candidates.has(key)) candidates.set(key, await applySide(decB, m.candidate));
    return partnerRanks(await applySide(heldA, m.query), candidates.get(key)!, partners);
  };
  const shuffles = nullPermutations(train.length, opts.seed + 1, 0, opts.shuffles);
  const maps: MapRetrieval[] = [];
  for (const kind of opts.maps) {
    const fitter: MapFitter = kind === 'procrustes' ? await procrustesFitter(x, y) : await ridgeFitter(x, opts.ridge);
    const ranks = await ranksOf(await fitter.fit(y));
    const observed = retrievalStats(ranks);
    const nulls = { top1: new Float64Array(shuffles.length), top10: new Float64Array(shuffles.length), mrr: new Float64Array(shuffles.length) };
    for (let s = 0; s < shuffles.length; s++) {
      const st = retrievalStats(await ranksOf(await fitter.fit(gatherRows(y, shuffles[s]!))));
      for (const stat of RETRIEVAL_STATS) nulls[stat][s] = st[stat];
    }
    const scores = Object.fromEntries(RETRIEVAL_STATS.map((stat) => [stat, withNull(observed[stat], nulls[stat], stat, decB.rows)])) as Record<RetrievalStat, ScoreWithNull>;
    maps.push({ map: kind, scores, ranks: Array.from(ranks) });
  }
  return { nTrain: train.length, nTest: test.length, dictionary: decB.rows, maps };
}
