// Full-space similarity of one layer pair (cpu queue): every metric the sweep asks for
// (`similarity.metrics`) on the kept pairs' decoder rows (row i of A ↔ row i of B), each against
// a permutation null, with its effect against the null and the measure's saturation verdict (a
// saturated score is stored, flagged with the reason). A metric that cannot be computed on this
// pair (too few pairs, or a matched-column measure on decoders of different widths) is stored
// with the reason instead. The finished metrics and the running null are checkpointed per batch
// of permutations (at most every UFG_CHECKPOINT_SECONDS): a retried attempt continues from the
// last saved batch, and its manifest's `resumedFrom` counts the permutations it took over.
import { permutationNull, type NullProgress } from '../pipelines/similarity/permutationNull.ts';
import { measureFor, withNull } from '../pipelines/similarity/pairedScorer.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import type { MeasureName } from '../pipelines/similarity/types.ts';
import type { ScoreMode, ScoreWithNull } from '../pipelines/pair/pairedScores.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { loadSae } from '../pipelines/sae/index.ts';
import { MIN_PAIRS } from '../pipelines/subspace/analyseSubspaces.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { Checkpoint } from './checkpoint.ts';
import { releaseArenaSessions } from '../pipelines/kernels/session.ts';
import { runActivity } from './context.ts';
import { readKeptPairs, rowsOf } from './layerData.ts';
import { produce, readJsonArtifact, sourceAt } from './storeAccess.ts';
import type { LayerPairInput, ScoresResult, WorkHeartbeat } from './types.ts';

export const SCORES_FILE = 'scores.json';
/** The scores so far while the activity runs (dropped before publishing). */
export const SCORES_CHECKPOINT = 'scores.checkpoint';

/** What a retried attempt resumes from: the finished metrics, and the null of the next one so far. */
export interface ScoresCheckpoint {
  scores: MetricScore[];
  current?: NullProgress;
}

/**
 * Fewest pairs any full-space metric is scored on: the floor the semantic subspaces use for SVCCA
 * and RSA, so a row is skipped for the same reason at both levels (and a null over fewer rows has
 * too few distinct permutations to mean much), or the measure's own minimum where that is higher.
 */
export const MIN_SCORED_PAIRS = Math.max(...Object.values(MIN_PAIRS));

/** The measure a config metric name runs: under `reference`, `svcca` is the original's SVCCA (quirk #1). */
export function fullSpaceMeasure(metric: MeasureName, mode: ScoreMode): MeasureName {
  return metric === 'svcca' || metric === 'rsa' ? measureFor(metric, mode) : metric;
}

/** One metric of a layer pair: its score with the null, or why it was not computed. */
export type MetricScore = {
  /** The name the config asked for (the results table's `metric`). */
  metric: MeasureName;
  /** The measure that ran (differs for `svcca` under `compat: reference`). */
  measure: MeasureName;
  /** false for distances (Procrustes): the null then counts scores at or below the observed one. */
  largerIsMoreSimilar: boolean;
} & ((ScoreWithNull & { extras?: Record<string, number> }) | { skipped: string });

export interface StoredScores {
  /** Kept pairs scored, and the decoder widths of the two sides. */
  n: number;
  widthA: number;
  widthB: number;
  /** In the order of `similarity.metrics`. */
  scores: MetricScore[];
}

export function scoresSpec(input: LayerPairInput, pairId: string) {
  return {
    stage: 'similarity',
    codeVersion: codeVersionFor('similarity'),
    params: {
      compat: input.compat,
      permutations: input.similarity.permutations,
      seed: input.similarity.seed,
      metrics: input.similarity.metrics,
      minPairs: MIN_SCORED_PAIRS,
    },
    inputs: [pairId, input.a.saeId, input.b.saeId],
  };
}

/** Why `metric` is not computed on n pairs of these widths, or undefined when it can be. */
export function skipReason(metric: MeasureName, measure: MeasureName, n: number, x: Pick<Mat, 'cols'>, y: Pick<Mat, 'cols'>): string | undefined {
  const m = MEASURES[measure];
  const min = Math.max(m.minRows, MIN_SCORED_PAIRS);
  if (n < min) return `${n} pair${n === 1 ? '' : 's'}, ${metric} needs at least ${min}`;
  if (m.equalWidths && x.cols !== y.cols) return `${metric} matches columns one to one and needs equal decoder widths, got ${x.cols} (A) and ${y.cols} (B)`;
  return m.sizeLimit?.(n);
}

export interface ScoreMetricOptions {
  mode: ScoreMode;
  permutations: number;
  seed: number;
  /** Where an earlier attempt left this metric's null. */
  resume?: NullProgress;
  /** After every batch of permutations (checkpoints, cancellation). */
  onBatch?: (progress: NullProgress) => void | Promise<void>;
}

export async function scoreMetric(metric: MeasureName, x: Mat, y: Mat, opts: ScoreMetricOptions): Promise<MetricScore> {
  const measure = fullSpaceMeasure(metric, opts.mode);
  const head = { metric, measure, largerIsMoreSimilar: MEASURES[measure].properties.largerIsMoreSimilar };
  const skipped = skipReason(metric, measure, x.rows, x, y);
  if (skipped) return { ...head, skipped };
  const r = await permutationNull(MEASURES[measure], x, y, {
    permutations: opts.permutations,
    seed: opts.seed,
    pValue: opts.mode,
    ...(opts.resume ? { resume: opts.resume } : {}),
    ...(opts.onBatch ? { onBatch: opts.onBatch } : {}),
  });
  return { ...head, ...withNull(r), ...(r.extras ? { extras: r.extras } : {}) };
}

export function scoresActivity(store: ArtifactStore) {
  return (input: LayerPairInput, pairId: string): Promise<ScoresResult> =>
    runActivity(async (progress) => {
      // Its sessions' arenas are freed when it ends, not held under the stages after it.
      const { manifest, reused } = await produce(store, scoresSpec(input, pairId), async (writer) => {
        const pairs = await readKeptPairs(store, pairId);
        const saeA = await loadSae(await sourceAt(store, input.a.saeId, input.a.saePath));
        const saeB = await loadSae(await sourceAt(store, input.b.saeId, input.b.saePath));
        const x = rowsOf({ data: saeA.wDec, rows: saeA.numFeatures, cols: saeA.dIn }, pairs.a);
        const y = rowsOf({ data: saeB.wDec, rows: saeB.numFeatures, cols: saeB.dIn }, pairs.b);
        const { metrics, permutations, seed } = input.similarity;
        // The finished metrics and the running null, saved now and then: a retried attempt (a
        // killed worker) continues from the last saved batch of permutations.
        const checkpoint = new Checkpoint<ScoresCheckpoint>(writer, SCORES_CHECKPOINT);
        const resume = await checkpoint.load();
        const out: StoredScores = { n: pairs.a.length, widthA: x.cols, widthB: y.cols, scores: resume ? resume.scores.slice() : [] };
        // Work in permutations scored over every metric (a skipped metric counts as scored at once).
        const total = metrics.length * permutations;
        for (let i = out.scores.length; i < metrics.length; i++) {
          const metric = metrics[i]!;
          const report = (done: number) => progress.report({ metric, unit: 'permutations', done: i * permutations + done, total } satisfies WorkHeartbeat & { metric: string });
          report(0);
          const onBatch = (state: NullProgress): void => {
            report(state.done);
            progress.checkCancelled();
            if (checkpoint.due() && state.done < permutations) checkpoint.save({ scores: out.scores.slice(), current: state });
          };
          const current = resume && i === resume.scores.length ? resume.current : undefined;
          out.scores.push(await scoreMetric(metric, x, y, { mode: input.compat, permutations, seed, ...(current ? { resume: current } : {}), onBatch }));
          report(permutations);
          progress.checkCancelled();
          if (checkpoint.due() && i + 1 < metrics.length) checkpoint.save({ scores: out.scores.slice() });
        }
        await checkpoint.finish();
        await writer.writeJson(SCORES_FILE, out);
        const scored = out.scores.filter((s) => !('skipped' in s)).length;
        return {
          ...(resume ? { resumedFrom: { unit: 'permutations', done: resume.scores.length * permutations + (resume.current?.done ?? 0), total: metrics.length * permutations } } : {}),
          counts: { pairs: out.n, permutations, metrics: out.scores.length, scored },
        };
      }).finally(releaseArenaSessions);
      const s = await readScores(store, manifest.id);
      return { id: manifest.id, reused, n: s.n, metrics: Object.fromEntries(s.scores.map((m) => [m.metric, 'skipped' in m ? { skipped: m.skipped } : { observed: m.observed, p: m.p }])) };
    });
}

export function readScores(store: ArtifactStore, id: string): Promise<StoredScores> {
  return readJsonArtifact<StoredScores>(store, id, SCORES_FILE);
}

/** The entry for `metric`, if the sweep asked for it. */
export function scoreOf(s: StoredScores, metric: string): MetricScore | undefined {
  return s.scores.find((m) => m.metric === metric);
}
