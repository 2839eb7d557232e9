// Semantic subspaces: per category, the features of A and of B whose whole-word labels hit one
// of its keywords, paired by correlation among themselves (one-to-one), then SVCCA and RSA on the
// paired decoder rows, each against a permutation null. A score is kept only where it can mean
// something; otherwise the reason is stored instead (`skipped`): too few pairs for the metric, a
// null too coarse to reach p ≤ 0.05 (N permutations, or n! distinct ones for n pairs), or a
// saturated score (e.g. SVCCA keeping n − 1 directions of n pairs is 1 by construction).
import type { Mat } from '../kernels/gemm.ts';
import type { ActivationSource } from '../pair/activationSource.ts';
import { labelRule, topKForLabels, topWordLabels, type LabelRule } from '../pair/labels.ts';
import type { PairedMetric, PairedScorer, ScoreMode, ScoreWithNull } from '../pair/pairedScores.ts';
import { pairedScorer } from '../similarity/pairedScorer.ts';
import { coarseNullReason } from '../similarity/permutationNull.ts';
import type { CorrelationKind, TopActivations } from '../pair/streamingCorrelation.ts';
import { topActivations } from '../pair/topActivations.ts';
import { builtinCategories, categoryFeatures, type Categories } from './categories.ts';
import { pairWithinCategory, type CategoryFeatures, type CategoryPairs } from './pairWithinCategory.ts';

/** Fewest pairs a metric is computed on: SVCCA needs a spread of rows, RSA a few distinct row pairs. */
export const MIN_PAIRS: Record<PairedMetric, number> = { svcca: 5, rsa: 5 };

export interface SubspaceAnalysisInput {
  a: ActivationSource;
  b: ActivationSource;
  /** Decoded token at every position (the rows of a and b). */
  tokens: readonly string[];
  /** Which rows continue each other within a document (labels.ts rowsFollow); default: all consecutive rows. */
  follows?: ArrayLike<number>;
  /** Decoder rows, one per feature (FA × dA, FB × dB). */
  decoderA: Mat;
  decoderB: Mat;
  /** SVCCA / RSA against a permutation null; default: the similarity stage's pairedScorer. */
  scorer?: PairedScorer;
  categories?: Categories;
  /** Top activations from an earlier pass over the same sources (topKForLabels(labelRule) each), to skip another one. */
  topA?: TopActivations;
  topB?: TopActivations;
  /** `reference`: the original's SVCCA, correlation and labels; `described` (default): textbook. */
  mode?: ScoreMode;
  /** How labels are made (default: labels.ts's rule for `mode`); a feature without a label joins no category. */
  labelRule?: LabelRule;
  permutations?: number;
  /**
   * Pairs every category's features at once (e.g. in a compute job over the same data); default
   * pairWithinCategory on `a` and `b`, one category after the other.
   */
  pairCategories?: (categories: CategoryFeatures[], kind: CorrelationKind) => Promise<CategoryPairs[]>;
  /** Called after each category with the categories analysed so far (progress of a long stage). */
  onCategory?: (done: number, total: number) => void;
  seed?: number;
  minPairs?: Partial<Record<PairedMetric, number>>;
}

export type MetricOutcome = ScoreWithNull | { skipped: string };

export interface CategoryAnalysis {
  category: string;
  featuresA: number[];
  featuresB: number[];
  pairsA: number[];
  pairsB: number[];
  /** Mean correlation of the kept pairs (NaN without pairs). */
  meanCorr: number;
  svcca: MetricOutcome;
  rsa: MetricOutcome;
}

function rowsOf(m: Mat, rows: readonly number[]): Mat {
  const out = new Float32Array(rows.length * m.cols);
  rows.forEach((r, i) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { data: out, rows: rows.length, cols: m.cols };
}

export async function analyseSubspaces(input: SubspaceAnalysisInput): Promise<CategoryAnalysis[]> {
  const { a, b, tokens, decoderA, decoderB } = input;
  if (decoderA.rows !== a.numFeatures) throw new Error(`decoder A has ${decoderA.rows} rows for ${a.numFeatures} features`);
  if (decoderB.rows !== b.numFeatures) throw new Error(`decoder B has ${decoderB.rows} rows for ${b.numFeatures} features`);
  const mode = input.mode ?? 'described';
  const kind: CorrelationKind = mode === 'reference' ? 'reference' : 'pearson';
  const categories = input.categories ?? builtinCategories();
  const minPairs: Record<PairedMetric, number> = {
    svcca: input.minPairs?.svcca ?? MIN_PAIRS.svcca,
    rsa: input.minPairs?.rsa ?? MIN_PAIRS.rsa,
  };
  const rule = input.labelRule ?? labelRule(mode);
  const labelsA = topWordLabels(input.topA ?? (await topActivations(a, topKForLabels(rule))), tokens, rule, input.follows);
  const labelsB = topWordLabels(input.topB ?? (await topActivations(b, topKForLabels(rule))), tokens, rule, input.follows);

  const entries = Object.entries(categories);
  const features = categoryFeatures(labelsA, labelsB, categories);
  const paired = input.pairCategories
    ? await input.pairCategories(features, kind)
    : await mapInOrder(features, (c) => pairWithinCategory(a, b, c.featuresA, c.featuresB, { kind }));
  const results: CategoryAnalysis[] = [];
  for (const [i, [category]] of entries.entries()) {
    const { featuresA, featuresB } = features[i]!;
    const pairs = paired[i]!;
    const n = pairs.pairsA.length;
    const permutations = input.permutations ?? 1000;
    const outcome = async (metric: PairedMetric): Promise<MetricOutcome> => {
      if (n < minPairs[metric]) return { skipped: `${n} pair${n === 1 ? '' : 's'}, ${metric} needs at least ${minPairs[metric]}` };
      const coarse = coarseNullReason(n, permutations);
      if (coarse) return { skipped: `${n} pairs: ${coarse}` };
      const s = await (input.scorer ?? pairedScorer)(metric, rowsOf(decoderA, pairs.pairsA), rowsOf(decoderB, pairs.pairsB), {
        mode,
        permutations,
        seed: input.seed ?? 0,
        // A saturated score is stored as its reason only, so its null would be thrown away.
        skipNullWhenSaturated: true,
      });
      return s.saturated ? { skipped: `${metric} saturated on ${n} pairs: ${s.saturatedReason ?? 'uninformative by construction'}` } : s;
    };
    results.push({
      category,
      featuresA,
      featuresB,
      pairsA: pairs.pairsA,
      pairsB: pairs.pairsB,
      meanCorr: n === 0 ? Number.NaN : pairs.corr.reduce((s, v) => s + v, 0) / n,
      svcca: await outcome('svcca'),
      rsa: await outcome('rsa'),
    });
    input.onCategory?.(results.length, entries.length);
  }
  return results;
}

async function mapInOrder<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await f(item));
  return out;
}
