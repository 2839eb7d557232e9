// One layer pair, activations to kept feature pairs: streaming correlation (with each feature's
// top activations, for its label, gathered in the same pass unless an earlier pass gives them),
// many-A-to-one-B pairing, then the filter chain with a count after every stage, in `described`
// or `reference` mode.
import type { ActivationSource } from './activationSource.ts';
import { filterPairs, type FilterCounts, type FilterMode } from './filters.ts';
import { countUnlabelled, DEFAULT_MIN_ACTIVATIONS, labelRule, topKForLabels, topTokenLabels, type LabelRule } from './labels.ts';
import { correlateFeatures, type CheckpointOptions, type CorrelationPairing, type FeatureGroup, type TopActivations } from './streamingCorrelation.ts';

export interface LayerPairingOptions {
  mode?: FilterMode;
  nonconceptTokens?: readonly string[];
  minCorrelation?: number;
  /** `described`: fewest firing positions for a label (default 5); see labels.ts. */
  minActivations?: number;
  memoryBudgetBytes?: number;
  tokenChunk?: number;
  /** Called after every block pair of the correlation. */
  onProgress?: (blockPairsDone: number, blockPairsTotal: number) => void | Promise<void>;
  /** Resume the correlation from a checkpoint, and report new ones. */
  checkpoint?: CheckpointOptions;
  /**
   * The token at every row of `b`, where it differs from `tokens` (A's): the selection null
   * re-aligns B's rows against A's, and each side's labels come from its own tokens.
   */
  tokensB?: readonly string[];
  /**
   * Each feature's highest activations over these same rows in this encoding, from an earlier
   * pass (the layer's feature statistics, computed once per layer where a grid pairs each layer
   * many times): used for the labels when they hold topKForLabels of the rule, and the
   * correlation then tracks none (its running top-k is a TopK over every chunk of every block).
   */
  top?: { a: TopActivations; b: TopActivations };
  /** Feature groups also paired among themselves in the same pass (streamingCorrelation.ts `within`). */
  within?: readonly FeatureGroup[];
}

export interface LayerPairing {
  mode: FilterMode;
  counts: FilterCounts;
  /** Kept pairs, ascending by B feature: A feature pairsA[i] ↔ B feature pairsB[i]. */
  pairsA: number[];
  pairsB: number[];
  /**
   * Mean best correlation over all B features, and over the kept pairs, in the original code's
   * correlation formula (unbiased std + 1e-8, divided by T) in both modes, so the numbers are
   * comparable with the paper's tables; the `Pearson` twins are the textbook values.
   */
  meanCorr: number;
  meanCorrFiltered: number;
  meanPearson: number;
  meanPearsonFiltered: number;
  /** How labels were made, and each feature's label tokens (null: no label). */
  labelRule: LabelRule;
  topTokensA: (string[] | null)[];
  topTokensB: (string[] | null)[];
  /** Features without a label (described: firing at fewer than minActivations positions). */
  labelCounts: LabelCounts;
  /** Holds topA/topB: each feature's topKForLabels(labelRule) highest activations. */
  pairing: CorrelationPairing;
}

export interface LabelCounts {
  unlabelledA: number;
  unlabelledB: number;
}

const REFERENCE_STD_EPS = 1e-8;

/** Ratio (original formula) / (Pearson) for a pair with population stds sdA, sdB over T tokens. */
function referenceOverPearson(sdA: number, sdB: number, t: number): number {
  if (sdA === 0 || sdB === 0) return 0;
  const unbiased = Math.sqrt(t / (t - 1));
  return (sdA * sdB) / ((sdA * unbiased + REFERENCE_STD_EPS) * (sdB * unbiased + REFERENCE_STD_EPS));
}

function checkTop(top: TopActivations, features: number, tokens: number, side: string): void {
  const n = features * top.k;
  if (top.values.length !== n || top.positions.length !== n) throw new Error(`top activations of ${side}: ${top.values.length} values for ${features} features × ${top.k}`);
  for (let i = 0; i < n; i++) {
    if (!(top.positions[i]! >= -1 && top.positions[i]! < tokens)) throw new Error(`top activations of ${side}: position ${top.positions[i]} outside ${tokens} tokens`);
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((s, v) => s + v, 0) / xs.length;
}

/** Pair the features of two SAEs on one layer pair and filter the pairs. `tokens[t]` is the decoded token at position t. */
export async function pairAndFilterLayer(
  a: ActivationSource,
  b: ActivationSource,
  tokens: readonly string[],
  opts: LayerPairingOptions = {},
): Promise<LayerPairing> {
  const mode = opts.mode ?? 'described';
  if (tokens.length !== a.numTokens) throw new Error(`${tokens.length} decoded tokens for ${a.numTokens} activation rows`);
  const tokensB = opts.tokensB ?? tokens;
  if (tokensB.length !== b.numTokens) throw new Error(`${tokensB.length} decoded tokens of B for ${b.numTokens} activation rows`);
  const rule = labelRule(mode, opts.minActivations ?? DEFAULT_MIN_ACTIVATIONS);
  const k = topKForLabels(rule);
  const known = opts.top && opts.top.a.k === k && opts.top.b.k === k ? opts.top : undefined;
  if (known) {
    checkTop(known.a, a.numFeatures, a.numTokens, 'A');
    checkTop(known.b, b.numFeatures, b.numTokens, 'B');
  }
  const pairing = await correlateFeatures(a, b, {
    kind: mode === 'reference' ? 'reference' : 'pearson',
    topK: known ? 0 : k,
    ...(opts.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: opts.memoryBudgetBytes } : {}),
    ...(opts.tokenChunk !== undefined ? { tokenChunk: opts.tokenChunk } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.within ? { within: opts.within } : {}),
    ...opts.checkpoint,
  });
  if (known) {
    pairing.topA = known.a;
    pairing.topB = known.b;
  }
  const topTokensA = topTokenLabels(pairing.topA!, tokens, rule);
  const topTokensB = topTokenLabels(pairing.topB!, tokensB, rule);
  const filtered = filterPairs({
    aForEachB: pairing.aForEachB,
    corrForEachB: pairing.corrForEachB,
    topTokensA,
    topTokensB,
    mode,
    ...(opts.nonconceptTokens ? { nonconceptTokens: opts.nonconceptTokens } : {}),
    ...(opts.minCorrelation !== undefined ? { minCorrelation: opts.minCorrelation } : {}),
  });

  const T = pairing.numTokens;
  const ratio = (bf: number) => referenceOverPearson(pairing.statsA.sd[pairing.aForEachB[bf]!]!, pairing.statsB.sd[bf]!, T);
  const asReference = (bf: number) => (mode === 'reference' ? pairing.corrForEachB[bf]! : pairing.corrForEachB[bf]! * ratio(bf));
  const asPearson = (bf: number) => {
    if (mode === 'described') return pairing.corrForEachB[bf]!;
    const r = ratio(bf);
    return r === 0 ? 0 : pairing.corrForEachB[bf]! / r;
  };
  const allB = Array.from({ length: b.numFeatures }, (_, i) => i);
  return {
    mode,
    counts: filtered.counts,
    pairsA: filtered.pairsA,
    pairsB: filtered.pairsB,
    meanCorr: mean(allB.map(asReference)),
    meanCorrFiltered: mean(filtered.pairsB.map(asReference)),
    meanPearson: mean(allB.map(asPearson)),
    meanPearsonFiltered: mean(filtered.pairsB.map(asPearson)),
    labelRule: rule,
    topTokensA,
    topTokensB,
    labelCounts: { unlabelledA: countUnlabelled(topTokensA), unlabelledB: countUnlabelled(topTokensB) },
    pairing,
  };
}
