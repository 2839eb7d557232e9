// Pairing one layer pair (gpu queue): correlate every A feature with every B feature over all
// tokens (block-wise, SAE activations recomputed from residuals), pair many-A-to-one-B, run the
// filter chain. With `pairing.method` hungarian / ot / decoder, the pairs come instead from a
// one-to-one assignment on a pool of the most active features (pipelines/pair/oneToOneLayer.ts;
// decoder: by decoder-row cosine), filtered the same way.
// Stores the kept pairs (Parquet), the counts (filter stages, features without a label) and means,
// and each feature's top activations with the label rule (labels for subspaces and maps are made
// from them exactly as the keyword filter's were, with no further pass; they are the layers'
// feature statistics', which hold them for the pairing's encode mode). The selection null's
// document shifts (activities/selection.ts) write the same files through writePairing, with B's
// rows re-aligned. The same pass pairs the semantic categories among themselves and stores that
// as its own artifact for the subspace stage (activities/categoryPairs.ts).
import { join } from 'node:path';
import { runComputeJob } from '../pipelines/kernels/session.ts';
import { PAIR_JOB, type PairJobArgs, type PairJobProgress, type PairJobResult } from '../pipelines/pair/pairJob.ts';
import type { CorrelationCheckpoint, TopActivations } from '../pipelines/pair/streamingCorrelation.ts';
import { readFeatureStatsTable } from '../pipelines/sae/statsTable.ts';
import { STATS_FILE } from './extract.ts';
import { Checkpoint } from './checkpoint.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import { writeParquetTable } from '../storage/parquet.ts';
import type { ProducedInfo } from '../storage/produce.ts';
import type { ArtifactStore, ArtifactWriter } from '../storage/store.ts';
import { shiftedRows } from '../pipelines/pair/documentShift.ts';
import { runActivity, type ActivityProgress } from './context.ts';
import { layerPairPaths, PAIRING_FILE, PAIRS_FILE, storedTop, TOP_FILE, type StoredPairing } from './layerData.ts';
import { produce } from './storeAccess.ts';
import { categoryPairs } from './categoryPairs.ts';
import { sweepCategories } from './categories.ts';
import { labelRule, topWordLabels } from '../pipelines/pair/labels.ts';
import { categoryFeatures } from '../pipelines/subspace/categories.ts';
import { categoryPairsFrom } from '../pipelines/subspace/pairWithinCategory.ts';
import type { LayerPairInput, PairResult, WorkHeartbeat } from './types.ts';

/** The correlation's running state, while the pairing runs (removed before the artifact is published). */
export const CHECKPOINT_FILE = 'pairing.checkpoint';

/** The parameters that change a pairing: pool size for one-to-one methods, ε for OT only. */
function methodParams(pairing: LayerPairInput['pairing']): Record<string, number> {
  if (pairing.method === 'greedy') return {};
  if (pairing.method === 'hungarian' || pairing.method === 'decoder') return { poolSize: pairing.poolSize };
  return { poolSize: pairing.poolSize, epsilon: pairing.epsilon };
}

export function pairSpec(input: LayerPairInput) {
  return {
    stage: 'pair',
    codeVersion: codeVersionFor('pair'),
    params: {
      layerA: input.a.layer,
      layerB: input.b.layer,
      compat: input.compat,
      encode: input.pairing.encode,
      method: input.pairing.method,
      ...methodParams(input.pairing),
      minCorrelation: input.pairing.minCorrelation,
      minActivations: input.pairing.minActivations,
    },
    inputs: [input.a.extractId, input.b.extractId, input.a.saeId, input.b.saeId, input.a.tokenizerId, input.a.statsId, input.b.statsId],
  };
}

/**
 * The selection null's pairing of one document shift (pipelines/pair/documentShift.ts): the same
 * parameters and inputs as the pairing, plus the shift, so each shift is its own artifact.
 */
export function pairShiftSpec(input: LayerPairInput, shift: number) {
  const base = pairSpec(input);
  return { ...base, stage: 'pair-shift', codeVersion: codeVersionFor('pair-shift'), params: { ...base.params, shift } };
}

/**
 * Runs the pairing compute job into `writer` (kept pairs, counts, top activations), resuming from
 * a previous attempt's checkpoint; with `shift`, on B's documents shifted by that many against A's.
 * Without a shift it also stores the categories' pairings (activities/categoryPairs.ts), calling
 * `onCategoryPairs` when it computed them.
 */
export async function writePairing(
  store: ArtifactStore,
  input: LayerPairInput,
  writer: ArtifactWriter,
  progress: ActivityProgress,
  { shift, onCategoryPairs }: { shift?: number; onCategoryPairs?: () => void } = {},
): Promise<ProducedInfo> {
  const { a, b, tokens, docIds, follows } = await layerPairPaths(store, input);
  const shifted = shift === undefined ? undefined : shiftedRows(docIds, shift);
  // A previous attempt's checkpoint, carried into this attempt's staging by the store.
  const checkpoint = new Checkpoint<CorrelationCheckpoint>(writer, CHECKPOINT_FILE);
  const resume = await checkpoint.load();
  // Rows in extraction order: the feature statistics' top activations are this pairing's.
  const top = shifted ? undefined : { a: await statsTop(store, input.a.statsId), b: await statsTop(store, input.b.statsId) };
  // The semantic categories' features by the subspace stage's rule, paired among themselves from
  // this pass's accumulators: that stage then finds its pairings stored (activities/categoryPairs.ts).
  const rule = labelRule(input.compat, input.pairing.minActivations);
  const categories = top
    ? categoryFeatures(topWordLabels(top.a, tokens, rule, follows), topWordLabels(top.b, tokens, rule, follows), sweepCategories(input.categories))
    : undefined;
  const args: PairJobArgs = {
    a,
    b,
    tokens,
    encode: input.pairing.encode,
    mode: input.compat,
    minCorrelation: input.pairing.minCorrelation,
    minActivations: input.pairing.minActivations,
    method: input.pairing.method,
    poolSize: input.pairing.poolSize,
    epsilon: input.pairing.epsilon,
    ...(shifted ? { shift: { rowsA: shifted.rowsA, rowsB: shifted.rowsB } } : {}),
    ...(top ? { top } : {}),
    ...(categories ? { within: categories } : {}),
    ...(resume ? { resume } : {}),
    checkpointEveryMs: checkpoint.everyMs,
    checkpointPath: join(writer.stagingLocation, `.${CHECKPOINT_FILE}.job`),
  };
  const job = await runComputeJob<PairJobArgs, PairJobResult>(PAIR_JOB, 'pairLayerJob', args, {
    onProgress: (p) => {
      const q = p as PairJobProgress;
      if ('checkpointFile' in q) checkpoint.adopt(q.checkpointFile);
      else {
        progress.report({ unit: 'block pairs', done: q.blockPairs, total: q.total, ...(resume ? { resumedAt: resume.rowsDone } : {}) } satisfies WorkHeartbeat);
      }
    },
  });
  await checkpoint.finish();
  const r = job.greedy;
  const within = r.pairing.within;
  if (categories && within) {
    const stored = await categoryPairs(store, input, categories, async () => categories.map((c, i) => categoryPairsFrom(c.featuresA, c.featuresB, within[i]!)));
    if (stored.produced) onCategoryPairs?.();
  }
  const { method } = input.pairing;
  const kept = job.oneToOne ?? { ...r, correlation: r.pairsB.map((bf) => r.pairing.corrForEachB[bf]!) };
  // In passes over one token chunk of one row of A features: the correlation's own steps.
  const chunks = Math.ceil(r.pairing.numTokens / r.pairing.plan.tokenChunk);
  const passes = Math.ceil(job.numFeaturesA / r.pairing.plan.blockA) * chunks;
  const resumedFrom = resume ? { unit: 'row chunk passes', done: resume.rowsDone * chunks + resume.chunksDone, total: passes } : undefined;
  await writer.writeWithPath(PAIRS_FILE, (tmp) =>
    writeParquetTable(tmp, [
      { name: 'feature_a', type: 'INT32', data: Int32Array.from(kept.pairsA) },
      { name: 'feature_b', type: 'INT32', data: Int32Array.from(kept.pairsB) },
      { name: 'correlation', type: 'DOUBLE', data: Float64Array.from(kept.correlation) },
    ]),
  );
  const stored: StoredPairing = {
    method,
    counts: { ...kept.counts, ...r.labelCounts },
    meanCorr: kept.meanCorr,
    meanCorrFiltered: kept.meanCorrFiltered,
    meanPearson: kept.meanPearson,
    meanPearsonFiltered: kept.meanPearsonFiltered,
    numTokens: r.pairing.numTokens,
    numFeaturesA: job.numFeaturesA,
    numFeaturesB: job.numFeaturesB,
    ...('poolA' in kept
      ? {
          oneToOne: {
            poolA: kept.poolA,
            poolB: kept.poolB,
            total: kept.total,
            ...(kept.iterations !== undefined ? { iterations: kept.iterations, converged: kept.converged ?? false } : {}),
          },
        }
      : {}),
  };
  await writer.writeJson(PAIRING_FILE, nanToNull(stored));
  await writer.writeJson(TOP_FILE, storedTop({ a: r.pairing.topA!, b: r.pairing.topB! }, r.labelRule));
  return {
    ...(resumedFrom ? { resumedFrom } : {}),
    counts: { ...kept.counts, ...r.labelCounts, tokens: r.pairing.numTokens },
    summary: { layerA: input.a.layer, layerB: input.b.layer, method, meanCorrFiltered: finiteOrNull(kept.meanCorrFiltered), ...(shifted ? { shift: shifted.shift } : {}) },
  };
}

/** A layer's top activations from its feature statistics (computed in the pairing's encode mode). */
async function statsTop(store: ArtifactStore, statsId: string): Promise<TopActivations> {
  const stats = await readFeatureStatsTable(await store.localPath(statsId, STATS_FILE));
  return { k: stats.topK, values: stats.topValues, positions: stats.topPositions };
}

export function pairActivity(store: ArtifactStore) {
  return (input: LayerPairInput): Promise<PairResult> =>
    runActivity(async (progress) => {
      let alsoProduced = 0;
      const { manifest, reused } = await produce(store, pairSpec(input), (writer) => writePairing(store, input, writer, progress, { onCategoryPairs: () => alsoProduced++ }));
      const c = manifest.counts;
      return {
        id: manifest.id,
        reused,
        alsoProduced,
        counts: {
          total: c.total ?? 0,
          uniqueA: c.uniqueA ?? 0,
          afterKeywords: c.afterKeywords ?? 0,
          afterOneToOne: c.afterOneToOne ?? 0,
          afterLowCorrelation: c.afterLowCorrelation ?? 0,
          unlabelledA: c.unlabelledA ?? 0,
          unlabelledB: c.unlabelledB ?? 0,
        },
        meanCorrFiltered: (manifest.summary as { meanCorrFiltered?: number | null } | undefined)?.meanCorrFiltered ?? null,
        numPairs: c.afterLowCorrelation ?? 0,
      };
    });
}

export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** JSON has no NaN: means over zero pairs (an interval over no finite value …) are written as null. */
export function nanToNull<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}
