// The filter chain after many-A-to-one-B pairing, with a count after every stage. `described`
// follows docs/design.md; `reference` reproduces the original code (quirks #2 and #3: the keyword
// filter's result is computed but discarded, and one-to-one keeps the first B per A).

export type FilterMode = 'described' | 'reference';

/** Tokens that say nothing about a concept (docs/design.md; the original's `nonconc_words`). */
export const NONCONCEPT_TOKENS: readonly string[] = ['.', '\\n', '\n', '', ' ', '-', ',', '!', '?', '<|endoftext|>', '<bos>', '|bos|', '<pad>'];

export const LOW_CORRELATION_THRESHOLD = 0.1;

export interface PairFilterInput {
  /** For each B feature, its best A feature, and the correlation used for ranking and thresholds. */
  aForEachB: ArrayLike<number>;
  corrForEachB: ArrayLike<number>;
  /** Per feature, the decoded tokens of its label (labels.ts), or null: no label, so its pairs fail the keyword stage. */
  topTokensA: readonly (readonly string[] | null)[];
  topTokensB: readonly (readonly string[] | null)[];
  mode: FilterMode;
  nonconceptTokens?: readonly string[];
  minCorrelation?: number;
}

export interface FilterCounts {
  /** Pairs before filtering (one per B feature). */
  total: number;
  /** Distinct A features among them. */
  uniqueA: number;
  afterKeywords: number;
  afterOneToOne: number;
  afterLowCorrelation: number;
}

export interface FilteredPairs {
  /** Kept pairs, ascending by B feature. */
  pairsA: number[];
  pairsB: number[];
  counts: FilterCounts;
}

/** Do both features have a label, free of non-concept tokens, and do the two labels share a token? */
export function passesKeywordFilter(topA: readonly string[] | null, topB: readonly string[] | null, nonconcept: ReadonlySet<string>): boolean {
  if (topA === null || topB === null) return false;
  if (topA.some((t) => nonconcept.has(t)) || topB.some((t) => nonconcept.has(t))) return false;
  const inA = new Set(topA);
  return topB.some((t) => inA.has(t));
}

export function filterPairs(input: PairFilterInput): FilteredPairs {
  const nB = input.aForEachB.length;
  if (input.corrForEachB.length !== nB || input.topTokensB.length !== nB) {
    throw new Error(`filterPairs: ${nB} B features but ${input.corrForEachB.length} correlations and ${input.topTokensB.length} label lists`);
  }
  const nonconcept = new Set(input.nonconceptTokens ?? NONCONCEPT_TOKENS);
  const minCorr = input.minCorrelation ?? LOW_CORRELATION_THRESHOLD;
  const all = Array.from({ length: nB }, (_, b) => b);
  const aOf = (b: number) => input.aForEachB[b]!;
  const corrOf = (b: number) => input.corrForEachB[b]!;
  const topA = (a: number) => {
    const t = input.topTokensA[a];
    if (t === undefined) throw new Error(`filterPairs: no top tokens for A feature ${a}`);
    return t;
  };

  const keywordKept = all.filter((b) => passesKeywordFilter(topA(aOf(b)), input.topTokensB[b]!, nonconcept));
  const afterKeywords = input.mode === 'reference' ? all : keywordKept;

  // One B per A: the first (lowest index) in reference mode, the best-correlated otherwise.
  const chosen = new Map<number, number>();
  for (const b of afterKeywords) {
    const a = aOf(b);
    const prev = chosen.get(a);
    if (prev === undefined || (input.mode === 'described' && corrOf(b) > corrOf(prev))) chosen.set(a, b);
  }
  const oneToOne = afterKeywords.filter((b) => chosen.get(aOf(b)) === b);
  const kept = oneToOne.filter((b) => corrOf(b) > minCorr);

  return {
    pairsA: kept.map(aOf),
    pairsB: kept,
    counts: {
      total: nB,
      uniqueA: new Set(all.map(aOf)).size,
      afterKeywords: afterKeywords.length,
      afterOneToOne: oneToOne.length,
      afterLowCorrelation: kept.length,
    },
  };
}
