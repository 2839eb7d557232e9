// The sweep's results table (cpu queue): one row per (model pair, layer A, layer B, subspace,
// metric, null) — `model_a`/`model_b` are the models' config keys (`a`, `b` in a two-model sweep) — with
// observed, null mean, null sd, effect, p, the Benjamini–Hochberg q over every scored row of the
// sweep, the saturation flag, the pair counts after every filter stage, the features without a
// label per side, each side's SAE fit and hookpoint, and the id of the artifact that holds the
// row's scores (`ufg lineage results.parquet#<row>` walks from there). `null` names the null the
// row's p and effect are against (`rows`: the row permutation of the paired decoder rows;
// `selection`: the selection-aware null; `shuffled-pairs`: retrieval's shuffled training pairs;
// `independence`: pairing stability's relabelling; `none`: no null).
// The report reads q from this table (readResultQValues), so both show the same numbers.
import type { ScoreWithNull } from '../pipelines/pair/pairedScores.ts';
import { benjaminiHochberg } from '../pipelines/similarity/multipleTesting.ts';
import { measureFor } from '../pipelines/similarity/pairedScorer.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import { readParquetTable, writeParquetTable, type ParquetColumn } from '../storage/parquet.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { readPairing } from './layerData.ts';
import { readScores } from './scores.ts';
import { produce } from './storeAccess.ts';
import { readCorrespondence } from './correspondence.ts';
import { readSelection } from './selection.ts';
import { readSubspaces } from './subspaces.ts';
import type { KeyedModelPairGrid, LayerPairOutcome, ModelPairGrid, ModelPairKeys, ResultsInput, ResultsTableResult, Side, StoredFit } from './types.ts';
import { readRetrieval, retrievalMetric } from './retrieval.ts';
import { readStability } from './stability.ts';
import { RETRIEVAL_STATS } from '../pipelines/retrieval/retrieval.ts';
import { readFit } from './extract.ts';

export const RESULTS_FILE = 'results.parquet';
/** The `subspace` value of full-space rows. */
export const FULL_SPACE = 'full';

/** A two-model sweep's models: `a` and `b`. */
export const AB: ModelPairKeys = { a: 'a', b: 'b' };

const byLayers = (p: { layerA: number; layerB: number }, q: { layerA: number; layerB: number }) => p.layerA - q.layerA || p.layerB - q.layerB;

/** The model pairs of a results (or report) input: a two-model sweep's one grid is `a` vs `b`. */
export function gridsOf(input: ResultsInput): KeyedModelPairGrid[] {
  if (input.modelPairs) return input.modelPairs;
  const { modelA, modelB, layersA, layersB, saes, pairs, correspondenceId } = input;
  return [{ ...AB, modelA, modelB, layersA, layersB, saes, pairs, ...(correspondenceId ? { correspondenceId } : {}) }];
}

/** What identifies one model pair's grid in a results or report spec. */
export function gridParams(g: KeyedModelPairGrid) {
  return {
    a: g.a,
    b: g.b,
    control: g.control ?? null,
    modelA: g.modelA,
    modelB: g.modelB,
    layersA: g.layersA,
    layersB: g.layersB,
    cells: [...g.pairs].sort(byLayers).map((p) => [p.layerA, p.layerB]),
    hookpoints: { a: g.saes.a.hookpoints, b: g.saes.b.hookpoints },
  };
}

export function resultsSpec(input: ResultsInput) {
  if (input.modelPairs) {
    return {
      stage: 'results',
      codeVersion: codeVersionFor('results'),
      params: { compat: input.compat, pairingMethod: input.pairingMethod, modelPairs: input.modelPairs.map(gridParams) },
      inputs: input.modelPairs.flatMap((g) => [...[...g.pairs].sort(byLayers).flatMap((p) => [p.pairId, p.scoresId, p.subspacesId, ...(p.selectionId ? [p.selectionId] : []), ...measureIds(p)]), ...statsIds(g)]),
    };
  }
  // A two-model sweep's spec, as it was before N models.
  const pairs = [...input.pairs].sort(byLayers);
  return {
    stage: 'results',
    codeVersion: codeVersionFor('results'),
    params: {
      modelA: input.modelA,
      modelB: input.modelB,
      compat: input.compat,
      pairingMethod: input.pairingMethod,
      layersA: input.layersA,
      layersB: input.layersB,
      cells: pairs.map((p) => [p.layerA, p.layerB]),
      hookpoints: { a: input.saes.a.hookpoints, b: input.saes.b.hookpoints },
    },
    inputs: [...pairs.flatMap((p) => [p.pairId, p.scoresId, p.subspacesId, ...(p.selectionId ? [p.selectionId] : []), ...measureIds(p)]), ...statsIds(input), ...(input.correspondenceId ? [input.correspondenceId] : [])],
  };
}

/** A layer pair's retrieval and stability artifacts, where it has them. */
export function measureIds(p: LayerPairOutcome): string[] {
  return [...(p.retrievalId ? [p.retrievalId] : []), ...(p.stabilityId ? [p.stabilityId] : [])];
}

type MeasureRow = Pick<Row, 'nullKind' | 'metric' | 'measure' | 'score' | 'nPairs' | 'artifactId'>;

/**
 * The rows of a layer pair's retrieval (per map: top-1, top-10, MRR against shuffled training
 * pairs, on the held-out pairs) and stability (partner agreement over the B features with a
 * partner in both halves, kept-set Jaccard over the union of the kept sets; against independence).
 */
export async function measureRows(store: ArtifactStore, p: LayerPairOutcome): Promise<MeasureRow[]> {
  const out: MeasureRow[] = [];
  if (p.retrievalId) {
    const r = await readRetrieval(store, p.retrievalId);
    const id = p.retrievalId;
    if ('skipped' in r) {
      for (const map of r.requested) for (const stat of RETRIEVAL_STATS) out.push({ nullKind: 'shuffled-pairs', metric: retrievalMetric(map, stat), measure: retrievalMetric(map, stat), score: { skipped: r.skipped }, nPairs: 0, artifactId: id });
    } else {
      for (const m of r.maps) for (const stat of RETRIEVAL_STATS) out.push({ nullKind: 'shuffled-pairs', metric: retrievalMetric(m.map, stat), measure: retrievalMetric(m.map, stat), score: m.scores[stat], nPairs: r.nTest, artifactId: id });
    }
  }
  if (p.stabilityId) {
    const s = await readStability(store, p.stabilityId);
    const id = p.stabilityId;
    out.push({ nullKind: 'independence', metric: 'stability-partner', measure: 'stability-partner', score: s.partner, nPairs: s.eligible, artifactId: id });
    out.push({ nullKind: 'independence', metric: 'stability-jaccard', measure: 'stability-jaccard', score: s.jaccard, nPairs: s.kept[0] + s.kept[1] - s.keptShared, artifactId: id });
  }
  return out;
}

/** Every feature-stats artifact (they hold each SAE's fit) of the layers in the grid, A then B. */
export function statsIds(input: Pick<ModelPairGrid, 'layersA' | 'layersB' | 'saes'>): string[] {
  return [...input.layersA.map((l) => input.saes.a.statsByLayer[String(l)]!), ...input.layersB.map((l) => input.saes.b.statsByLayer[String(l)]!)];
}

/** Each layer's SAE fit per side, read from its feature-stats artifact. */
export async function readSideFits(store: ArtifactStore, input: Pick<ModelPairGrid, 'layersA' | 'layersB' | 'saes'>): Promise<Record<Side, Map<number, StoredFit>>> {
  const side = async (s: Side, layers: number[]) => new Map(await Promise.all(layers.map(async (l) => [l, await readFit(store, input.saes[s].statsByLayer[String(l)]!)] as const)));
  return { a: await side('a', input.layersA), b: await side('b', input.layersB) };
}

interface Row {
  grid: KeyedModelPairGrid;
  fits: Record<Side, Map<number, StoredFit>>;
  layerA: number;
  layerB: number;
  subspace: string;
  metric: string;
  /** The measure that ran (svcca-reference for `svcca` under compat reference). */
  measure: string;
  largerIsMoreSimilar: boolean;
  score: ScoreWithNull | { skipped: string };
  nPairs: number;
  meanCorr: number | null;
  counts: [number, number, number, number, number];
  /** Features without a label on side A and B (counted once per layer pair, repeated on its rows). */
  unlabelled: [number, number];
  artifactId: string;
  /** Which null p and effect are against (the `null` column). */
  nullKind: ResultNull;
  /** Selection null: the pairs each document shift kept, in shift order. */
  shiftPairs?: number[];
  /** Layer correspondence: the bootstrap interval of the effect, and the share of resamples choosing this layer of B. */
  interval?: { low: number; high: number; bestShare: number; layerBLow: number; layerBHigh: number };
}

/**
 * The `null` column: what a row's p and effect are against. `rows`: the row-permutation null;
 * `selection`: the selection-aware null (activities/selection.ts); the others are other analyses'.
 */
export type ResultNull = 'rows' | 'selection' | 'shuffled-pairs' | 'independence' | 'none';

const num = (v: number | null | undefined) => (typeof v === 'number' ? v : NaN);

/**
 * A results row's key: its model pair (default `a`, `b`), layers, subspace and metric, and its
 * null where two rows would otherwise collide (the selection null's rows repeat the
 * row-permutation rows' metrics).
 */
export function resultKey(layerA: number, layerB: number, subspace: string, metric: string, opts: { nullKind?: string; models?: ModelPairKeys } = {}): string {
  const models = opts.models ?? AB;
  const base = `${models.a}|${models.b}/${layerA}/${layerB}/${subspace}/${metric}`;
  return opts.nullKind === 'selection' ? `${base}/selection` : base;
}

/** The q column of a results artifact, by resultKey (rows without a q are left out). */
export async function readResultQValues(store: ArtifactStore, resultsId: string): Promise<Map<string, number>> {
  const t = await readParquetTable(await store.localPath(resultsId, RESULTS_FILE));
  const c = t.columns;
  const out = new Map<string, number>();
  for (let i = 0; i < t.numRows; i++) {
    const q = c.q![i];
    const nullKind = (c.null?.[i] as string | undefined) ?? 'rows';
    // Tables written before N models have no model columns: their rows are `a` vs `b`.
    const models = c.model_a ? { a: c.model_a[i] as string, b: c.model_b![i] as string } : AB;
    if (typeof q === 'number' && Number.isFinite(q)) out.set(resultKey(c.layer_a![i] as number, c.layer_b![i] as number, c.subspace![i] as string, c.metric![i] as string, { nullKind, models }), q);
  }
  return out;
}

/** The prefix of a layer-correspondence row's metric: `correspondence-<metric>`. */
export const CORRESPONDENCE_METRIC = 'correspondence-';

/**
 * One row per (metric, layer of A): layer_b is the best layer of B, observed / null / effect are
 * that pair's (against the row-permutation null), with the bootstrap intervals; no p of its own
 * (its pair's p is already a row of the table and in q's family).
 */
async function correspondenceRows(store: ArtifactStore, grid: KeyedModelPairGrid, fits: Row['fits'], id: string): Promise<Row[]> {
  const out: Row[] = [];
  const c = await readCorrespondence(store, id);
  for (const m of c.metrics) {
    for (const r of m.rows) {
      const p = grid.pairs.find((x) => x.layerA === r.layerA && x.layerB === r.bestB)!;
      const s = (await readScores(store, p.scoresId)).scores.find((x) => x.metric === m.metric)!;
      const pairing = await readPairing(store, p.pairId);
      const k = pairing.counts;
      out.push({
        grid,
        fits,
        layerA: r.layerA,
        layerB: r.bestB,
        subspace: FULL_SPACE,
        metric: `${CORRESPONDENCE_METRIC}${m.metric}`,
        measure: s.measure,
        largerIsMoreSimilar: m.largerIsMoreSimilar,
        score: 'skipped' in s ? s : { ...s, p: NaN },
        nPairs: 'skipped' in s ? 0 : pairing.counts.afterLowCorrelation,
        meanCorr: pairing.meanCorrFiltered,
        counts: [k.total, k.uniqueA, k.afterKeywords, k.afterOneToOne, k.afterLowCorrelation],
        unlabelled: [k.unlabelledA, k.unlabelledB],
        artifactId: id,
        nullKind: 'rows',
        interval: { low: r.effectLow, high: r.effectHigh, bestShare: r.bestShare, layerBLow: r.bestBLow, layerBHigh: r.bestBHigh },
      });
    }
  }
  return out;
}

export function resultsActivity(store: ArtifactStore) {
  return (input: ResultsInput): Promise<ResultsTableResult> =>
    runActivity(async () => {
      const spec = resultsSpec(input);
      const { manifest, reused } = await produce(store, spec, async (writer) => {
        const rows: Row[] = [];
        const grids = gridsOf(input);
        for (const grid of grids) {
        const fits = await readSideFits(store, grid);
        for (const p of [...grid.pairs].sort(byLayers)) {
          const pairing = await readPairing(store, p.pairId);
          const c = pairing.counts;
          const counts: Row['counts'] = [c.total, c.uniqueA, c.afterKeywords, c.afterOneToOne, c.afterLowCorrelation];
          const unlabelled: Row['unlabelled'] = [c.unlabelledA, c.unlabelledB];
          const scores = await readScores(store, p.scoresId);
          for (const s of scores.scores) {
            const base = { grid, fits, layerA: p.layerA, layerB: p.layerB, subspace: FULL_SPACE, metric: s.metric, measure: s.measure, largerIsMoreSimilar: s.largerIsMoreSimilar };
            rows.push({ ...base, score: s, nPairs: scores.n, meanCorr: pairing.meanCorrFiltered, counts, unlabelled, artifactId: p.scoresId, nullKind: 'rows' });
          }
          if (p.selectionId) {
            const sel = await readSelection(store, p.selectionId);
            const shiftPairs = sel.shifts.map((x) => x.pairs);
            for (const s of sel.scores) {
              const base = { grid, fits, layerA: p.layerA, layerB: p.layerB, subspace: FULL_SPACE, metric: s.metric, measure: s.measure, largerIsMoreSimilar: s.largerIsMoreSimilar };
              rows.push({ ...base, score: s, nPairs: sel.n, meanCorr: pairing.meanCorrFiltered, counts, unlabelled, artifactId: p.selectionId, nullKind: 'selection', shiftPairs });
            }
          }
          const extra = { grid, fits, layerA: p.layerA, layerB: p.layerB, subspace: FULL_SPACE, largerIsMoreSimilar: true, meanCorr: pairing.meanCorrFiltered, counts, unlabelled };
          for (const r of await measureRows(store, p)) rows.push({ ...extra, ...r });
          // Semantic subspaces carry the paper's two scores.
          for (const cat of await readSubspaces(store, p.subspacesId)) {
            for (const metric of ['svcca', 'rsa'] as const) {
              const measure = measureFor(metric, input.compat);
              rows.push({ grid, fits, layerA: p.layerA, layerB: p.layerB, subspace: cat.category, metric, measure, largerIsMoreSimilar: true, score: cat[metric], nPairs: cat.pairsA.length, meanCorr: cat.meanCorr, counts, unlabelled, artifactId: p.subspacesId, nullKind: 'rows' });
            }
          }
        }
        if (grid.correspondenceId) rows.push(...(await correspondenceRows(store, grid, fits, grid.correspondenceId)));
        }
        const score = (r: Row) => ('skipped' in r.score ? undefined : r.score);
        // One family for the false discovery rate: every scored p of the sweep (all cells, subspaces, metrics).
        const q = benjaminiHochberg(rows.map((r) => num(score(r)?.p)));
        const iv = (f: (i: NonNullable<Row['interval']>) => number) => rows.map((r) => (r.interval ? f(r.interval) : NaN));
        const columns: ParquetColumn[] = [
          { name: 'model_a', type: 'STRING', data: rows.map((r) => r.grid.a) },
          { name: 'model_b', type: 'STRING', data: rows.map((r) => r.grid.b) },
          { name: 'control', type: 'STRING', data: rows.map((r) => r.grid.control ?? '') },
          { name: 'layer_a', type: 'INT32', data: rows.map((r) => r.layerA) },
          { name: 'layer_b', type: 'INT32', data: rows.map((r) => r.layerB) },
          { name: 'subspace', type: 'STRING', data: rows.map((r) => r.subspace) },
          { name: 'metric', type: 'STRING', data: rows.map((r) => r.metric) },
          { name: 'measure', type: 'STRING', data: rows.map((r) => r.measure) },
          { name: 'null', type: 'STRING', data: rows.map((r) => r.nullKind) },
          { name: 'larger_is_more_similar', type: 'BOOLEAN', data: rows.map((r) => r.largerIsMoreSimilar) },
          { name: 'observed', type: 'DOUBLE', data: rows.map((r) => num(score(r)?.observed)) },
          { name: 'null_mean', type: 'DOUBLE', data: rows.map((r) => num(score(r)?.nullMean)) },
          { name: 'null_sd', type: 'DOUBLE', data: rows.map((r) => num(score(r)?.nullSd)) },
          { name: 'effect', type: 'DOUBLE', data: rows.map((r) => num(score(r)?.effect)) },
          { name: 'p', type: 'DOUBLE', data: rows.map((r) => num(score(r)?.p)) },
          { name: 'q', type: 'DOUBLE', data: q },
          { name: 'permutations', type: 'INT32', data: rows.map((r) => score(r)?.permutations ?? 0) },
          { name: 'saturated', type: 'BOOLEAN', data: rows.map((r) => score(r)?.saturated ?? false) },
          { name: 'saturated_reason', type: 'STRING', data: rows.map((r) => score(r)?.saturatedReason ?? '') },
          { name: 'skipped', type: 'STRING', data: rows.map((r) => ('skipped' in r.score ? r.score.skipped : '')) },
          { name: 'n_pairs', type: 'INT32', data: rows.map((r) => r.nPairs) },
          { name: 'mean_corr', type: 'DOUBLE', data: rows.map((r) => num(r.meanCorr)) },
          { name: 'count_all_b', type: 'INT32', data: rows.map((r) => r.counts[0]) },
          { name: 'count_unique_a', type: 'INT32', data: rows.map((r) => r.counts[1]) },
          { name: 'count_after_keywords', type: 'INT32', data: rows.map((r) => r.counts[2]) },
          { name: 'count_after_one_to_one', type: 'INT32', data: rows.map((r) => r.counts[3]) },
          { name: 'count_after_low_correlation', type: 'INT32', data: rows.map((r) => r.counts[4]) },
          { name: 'sae_fvu_a', type: 'DOUBLE', data: rows.map((r) => num(r.fits.a.get(r.layerA)?.fvu)) },
          { name: 'sae_fvu_b', type: 'DOUBLE', data: rows.map((r) => num(r.fits.b.get(r.layerB)?.fvu)) },
          { name: 'sae_l0_a', type: 'DOUBLE', data: rows.map((r) => num(r.fits.a.get(r.layerA)?.l0)) },
          { name: 'sae_l0_b', type: 'DOUBLE', data: rows.map((r) => num(r.fits.b.get(r.layerB)?.l0)) },
          { name: 'sae_dead_a', type: 'DOUBLE', data: rows.map((r) => num(r.fits.a.get(r.layerA)?.deadFraction)) },
          { name: 'sae_dead_b', type: 'DOUBLE', data: rows.map((r) => num(r.fits.b.get(r.layerB)?.deadFraction)) },
          { name: 'sae_hookpoint_a', type: 'STRING', data: rows.map((r) => r.grid.saes.a.hookpoints[String(r.layerA)] ?? 'unknown') },
          { name: 'sae_hookpoint_b', type: 'STRING', data: rows.map((r) => r.grid.saes.b.hookpoints[String(r.layerB)] ?? 'unknown') },
          { name: 'count_unlabelled_a', type: 'INT32', data: rows.map((r) => r.unlabelled[0]) },
          { name: 'count_unlabelled_b', type: 'INT32', data: rows.map((r) => r.unlabelled[1]) },
          { name: 'shift_pairs', type: 'STRING', data: rows.map((r) => r.shiftPairs?.join(',') ?? '') },
          { name: 'effect_ci_low', type: 'DOUBLE', data: iv((i) => i.low) },
          { name: 'effect_ci_high', type: 'DOUBLE', data: iv((i) => i.high) },
          { name: 'layer_b_ci_low', type: 'DOUBLE', data: iv((i) => i.layerBLow) },
          { name: 'layer_b_ci_high', type: 'DOUBLE', data: iv((i) => i.layerBHigh) },
          { name: 'best_share', type: 'DOUBLE', data: iv((i) => i.bestShare) },
          { name: 'artifact_id', type: 'STRING', data: rows.map((r) => r.artifactId) },
        ];
        // Model names by key (`ufg_models`); a two-model table also keeps its two names as before.
        const names = Object.fromEntries(grids.flatMap((g) => [[g.a, g.modelA], [g.b, g.modelB]]));
        const meta = { ...(input.modelPairs ? {} : { ufg_model_a: input.modelA, ufg_model_b: input.modelB }), ufg_models: JSON.stringify(names), ufg_compat: input.compat, ufg_pairing_method: input.pairingMethod };
        await writer.writeWithPath(RESULTS_FILE, (tmp) => writeParquetTable(tmp, columns, meta));
        return { counts: { rows: rows.length, layerPairs: grids.reduce((n, g) => n + g.pairs.length, 0) } };
      });
      return { id: manifest.id, reused, rows: manifest.counts.rows ?? 0 };
    });
}
