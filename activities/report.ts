// The sweep report (cpu queue): a heat-map per full-space metric (SVCCA and RSA first, then CKA,
// k-NN, Procrustes … as the sweep asked, then cross-model retrieval and pairing stability) over the layer grid with per-pair cards, each score with
// its effect, saturation and q — q read from the results table (input.resultsId), never recomputed,
// stored as an artifact, then published with the results table and the feature-map pages into
// the sweep's outDir (results.parquet, report.html, maps/A<la>_B<lb>.html). An N-model sweep's
// report has one such section per model pair (maps/<a>_vs_<b>/A<la>_B<lb>.html) under a model ×
// model summary: each pair's best layer pair by effect, with the controls as reference lines.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ScoreWithNull } from '../pipelines/pair/pairedScores.ts';
import { renderSweepReportHtml } from '../pipelines/render/sweepPage.ts';
import { sweepSummary } from '../pipelines/render/summary.ts';
import type { MappingMethod, ModelPairSection, SaeFitView, SweepCell, SweepCorrespondence, SweepMetric, SweepModelEntry, SweepReportData, SweepScore, SweepSelection } from '../pipelines/render/types.ts';
import { writeFileAtomic } from '../storage/atomic.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { MAP_HTML } from './featureMap.ts';
import { readPairing, type StoredPairing } from './layerData.ts';
import { AB, FULL_SPACE, gridParams, gridsOf, measureIds, measureRows, readResultQValues, readSideFits, RESULTS_FILE, resultKey, statsIds } from './results.ts';
import { readScores, scoreOf } from './scores.ts';
import { produce } from './storeAccess.ts';
import { readCorrespondence } from './correspondence.ts';
import { readSelection } from './selection.ts';
import { readSubspaces } from './subspaces.ts';
import type { KeyedModelPairGrid, LayerPairOutcome, ModelPairKeys, ReportInput, ReportResult, Side, StoredFit } from './types.ts';

export const REPORT_HTML = 'report.html';
export const REPORT_JSON = 'report.json';

/** A layer pair's feature-map page; an N-model sweep's pages sit in one folder per model pair. */
export function mapFileName(p: Pick<LayerPairOutcome, 'layerA' | 'layerB'>, models?: ModelPairKeys): string {
  return models ? `maps/${models.a}_vs_${models.b}/A${p.layerA}_B${p.layerB}.html` : `maps/A${p.layerA}_B${p.layerB}.html`;
}

function sorted(pairs: LayerPairOutcome[]): LayerPairOutcome[] {
  return [...pairs].sort((p, q) => p.layerA - q.layerA || p.layerB - q.layerB);
}

export function reportSpec(input: ReportInput) {
  if (input.modelPairs) {
    return {
      stage: 'report',
      codeVersion: codeVersionFor('report'),
      params: {
        title: input.title ?? null,
        sweepId: input.sweepId,
        compat: input.compat,
        pairingMethod: input.pairingMethod,
        modelPairs: input.modelPairs.map((g) => ({ ...gridParams(g), failed: (g.failed ?? []).map((f) => [f.layerA, f.layerB, f.error]) })),
        warnings: input.warnings,
      },
      inputs: [input.resultsId, ...input.modelPairs.flatMap((g) => [...sorted(g.pairs).flatMap((p) => [p.pairId, p.scoresId, p.subspacesId, p.mapId, ...(p.selectionId ? [p.selectionId] : []), ...measureIds(p)]), ...statsIds(g)])],
    };
  }
  // A two-model sweep's spec, as it was before N models.
  const pairs = sorted(input.pairs);
  return {
    stage: 'report',
    codeVersion: codeVersionFor('report'),
    params: {
      title: input.title ?? null,
      sweepId: input.sweepId,
      compat: input.compat,
      pairingMethod: input.pairingMethod,
      modelA: input.modelA,
      modelB: input.modelB,
      layersA: input.layersA,
      layersB: input.layersB,
      cells: pairs.map((p) => [p.layerA, p.layerB]),
      hookpoints: { a: input.saes.a.hookpoints, b: input.saes.b.hookpoints },
      warnings: input.warnings,
      // A partial sweep's report shows its failed cells, so it is another artifact than the full one.
      ...(input.failed && input.failed.length > 0 ? { failed: input.failed.map((f) => [f.layerA, f.layerB, f.error]) } : {}),
    },
    inputs: [input.resultsId, ...pairs.flatMap((p) => [p.pairId, p.scoresId, p.subspacesId, p.mapId, ...(p.selectionId ? [p.selectionId] : []), ...measureIds(p)]), ...statsIds(input), ...(input.correspondenceId ? [input.correspondenceId] : [])],
  };
}

function sweepScore(s: ScoreWithNull | { skipped: string }, artifactId: string, q: number | undefined): SweepScore | undefined {
  if ('skipped' in s || !Number.isFinite(s.observed) || !Number.isFinite(s.p)) return undefined;
  return {
    observed: s.observed,
    nullMean: s.nullMean,
    ...(Number.isFinite(s.nullSd) ? { nullSd: s.nullSd } : {}),
    ...(typeof s.effect === 'number' && Number.isFinite(s.effect) ? { effect: s.effect } : {}),
    p: s.p,
    ...(q !== undefined ? { q } : {}),
    ...(s.saturated ? { saturated: true, ...(s.saturatedReason ? { saturatedReason: s.saturatedReason } : {}) } : {}),
    artifactId,
  };
}

/** Filter-stage labels: greedy pairs start from every B feature, one-to-one pairs from the pool's assignment. */
function countStages(p: StoredPairing): string[] {
  const pool = p.oneToOne ? ` (pool ${p.oneToOne.poolA}×${p.oneToOne.poolB})` : '';
  const first = (p.method ?? 'greedy') === 'greedy' ? 'all B features' : `assigned${pool}`;
  return [first, 'distinct A features', 'concept tokens, shared top token', 'one-to-one', 'correlation > threshold'];
}

function fitView(fit: StoredFit | undefined, hookpoint: string | undefined, artifactId: string): SaeFitView {
  return { hookpoint: hookpoint ?? 'unknown', fvu: fit?.fvu ?? null, l0: fit?.l0 ?? null, deadFraction: fit?.deadFraction ?? null, artifactId };
}

async function cellOf(
  store: ArtifactStore,
  p: LayerPairOutcome,
  metrics: SweepMetric[],
  q: ReadonlyMap<string, number>,
  grid: KeyedModelPairGrid,
  fits: Record<Side, Map<number, StoredFit>>,
  /** Set in N-model sweeps: where q is looked up and the feature map lies. */
  models?: ModelPairKeys,
): Promise<SweepCell | undefined> {
  const keys = models ?? AB;
  const scores = await readScores(store, p.scoresId);
  const byMetric: Record<string, SweepScore> = {};
  for (const m of metrics) {
    const s = scoreOf(scores, m.name);
    const v = s && sweepScore(s, p.scoresId, q.get(resultKey(p.layerA, p.layerB, FULL_SPACE, m.name, { models: keys })));
    if (v) byMetric[m.name] = v;
  }
  // Retrieval and stability rows, each with its own artifact id.
  for (const r of await measureRows(store, p)) {
    const v = sweepScore(r.score, r.artifactId, q.get(resultKey(p.layerA, p.layerB, FULL_SPACE, r.metric, { models: keys })));
    if (v) byMetric[r.metric] = v;
  }
  const svcca = byMetric.svcca;
  const rsa = byMetric.rsa;
  // A cell needs both of the paper's full-space scores; without them it is drawn as "not computed".
  if (!svcca || !rsa) return undefined;
  const pairing = await readPairing(store, p.pairId);
  const c = pairing.counts;
  const subspaces = (await readSubspaces(store, p.subspacesId)).map((cat) => {
    const qOf = (metric: string) => q.get(resultKey(p.layerA, p.layerB, cat.category, metric, { models: keys }));
    const s = sweepScore(cat.svcca, p.subspacesId, qOf('svcca'));
    const r = sweepScore(cat.rsa, p.subspacesId, qOf('rsa'));
    const skipped = {
      ...('skipped' in cat.svcca ? { svcca: cat.svcca.skipped } : {}),
      ...('skipped' in cat.rsa ? { rsa: cat.rsa.skipped } : {}),
    };
    return { name: cat.category, n: cat.pairsA.length, ...(s ? { svcca: s } : {}), ...(r ? { rsa: r } : {}), ...(Object.keys(skipped).length ? { skipped } : {}) };
  });
  const stages = [...countStages(pairing), 'A features without a label', 'B features without a label'];
  const counts = [c.total, c.uniqueA, c.afterKeywords, c.afterOneToOne, c.afterLowCorrelation, c.unlabelledA, c.unlabelledB];
  return {
    layerA: p.layerA,
    layerB: p.layerB,
    svcca,
    rsa,
    scores: byMetric,
    method: (pairing.method ?? 'greedy') as MappingMethod,
    subspaces,
    counts: counts.map((count, i) => ({ stage: stages[i]!, count, artifactId: p.pairId })),
    featureMap: mapFileName(p, models),
    saeFit: {
      a: fitView(fits.a.get(p.layerA), grid.saes.a.hookpoints[String(p.layerA)], grid.saes.a.statsByLayer[String(p.layerA)]!),
      b: fitView(fits.b.get(p.layerB), grid.saes.b.hookpoints[String(p.layerB)], grid.saes.b.statsByLayer[String(p.layerB)]!),
    },
    ...(p.selectionId ? { selection: await selectionView(store, p, q, keys) } : {}),
    artifactId: p.scoresId,
  };
}

/** The layer correspondence as the report draws it (NaN ends of an interval as null: JSON has no NaN). */
async function correspondenceView(store: ArtifactStore, id: string): Promise<SweepCorrespondence> {
  const c = await readCorrespondence(store, id);
  const n = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    level: c.level,
    artifactId: id,
    metrics: c.metrics.map((m) => ({
      metric: m.metric,
      largerIsMoreSimilar: m.largerIsMoreSimilar,
      rows: m.rows.map((r) => ({ layerA: r.layerA, bestB: r.bestB, effect: r.effect, effectLow: n(r.effectLow), effectHigh: n(r.effectHigh), bestBLow: n(r.bestBLow), bestBHigh: n(r.bestBHigh), bestShare: n(r.bestShare) })),
    })),
  };
}

/** A layer pair's scores against the selection-aware null, with the results table's q. */
async function selectionView(store: ArtifactStore, p: LayerPairOutcome, q: ReadonlyMap<string, number>, models: ModelPairKeys): Promise<SweepSelection> {
  const id = p.selectionId!;
  const sel = await readSelection(store, id);
  const scores: Record<string, SweepScore> = {};
  const skipped: Record<string, string> = {};
  for (const s of sel.scores) {
    const v = sweepScore(s, id, q.get(resultKey(p.layerA, p.layerB, FULL_SPACE, s.metric, { nullKind: 'selection', models })));
    if (v) scores[s.metric] = v;
    else if ('skipped' in s) skipped[s.metric] = s.skipped;
  }
  return { scores, ...(Object.keys(skipped).length ? { skipped } : {}), shifts: sel.shifts.map((x) => ({ shift: x.shift, pairs: x.pairs, artifactId: x.pairId })), artifactId: id };
}

/** Why a finished layer pair has no cell: its SVCCA / RSA skip reasons, with the pairs left after the filters. */
async function unscoredReason(store: ArtifactStore, p: LayerPairOutcome): Promise<string> {
  const scores = await readScores(store, p.scoresId);
  const why = (['svcca', 'rsa'] as const).flatMap((m) => {
    const s = scoreOf(scores, m);
    return s && 'skipped' in s ? [`${m}: ${s.skipped}`] : [];
  });
  return `${scores.n} pairs after the filters; ${why.length > 0 ? why.join('; ') : 'no finite score'}`;
}

/** The sweep's full-space metrics in the order it scored them, read from the first layer pair's scores. */
async function sweepMetrics(store: ArtifactStore, input: ReportInput): Promise<SweepMetric[]> {
  const first = gridsOf(input).flatMap((g) => sorted(g.pairs))[0];
  if (!first) return [];
  const scores = await readScores(store, first.scoresId);
  const measures = (await measureRows(store, first)).map((r) => ({ name: r.metric, largerIsMoreSimilar: true }));
  return [...scores.scores.map((s) => ({ name: s.metric, largerIsMoreSimilar: s.largerIsMoreSimilar })), ...measures];
}

/** The models of an N-model sweep's pairs, in order of first appearance; a control names its source. */
function modelEntries(grids: KeyedModelPairGrid[]): SweepModelEntry[] {
  const out = new Map<string, SweepModelEntry>();
  for (const g of grids) {
    if (!out.has(g.a)) out.set(g.a, { key: g.a, name: g.modelA });
    if (!out.has(g.b)) out.set(g.b, { key: g.b, name: g.modelB, ...(g.control ? { control: g.control, of: g.a } : {}) });
  }
  return [...out.values()];
}

export function reportActivity(store: ArtifactStore) {
  return (input: ReportInput): Promise<ReportResult> =>
    runActivity(async () => {
      const { manifest, reused } = await produce(store, reportSpec(input), async (writer) => {
        const metrics = await sweepMetrics(store, input);
        const q = await readResultQValues(store, input.resultsId);
        const multi = input.modelPairs !== undefined;
        const sections: ModelPairSection[] = [];
        for (const g of gridsOf(input)) {
          const fits = await readSideFits(store, g);
          const cells: SweepCell[] = [];
          const unscored: ModelPairSection['unscored'] = [];
          for (const p of sorted(g.pairs)) {
            const cell = await cellOf(store, p, metrics, q, g, fits, multi ? g : undefined);
            if (cell) cells.push(cell);
            else if (multi) unscored.push({ layerA: p.layerA, layerB: p.layerB, error: await unscoredReason(store, p) });
          }
          const { a, b, modelA, modelB, layersA, layersB, control, failed } = g;
          sections.push({
            a, b, modelA, modelB, layersA, layersB, cells,
            ...(failed && failed.length > 0 ? { failed } : {}),
            ...(unscored.length > 0 ? { unscored } : {}),
            ...(control ? { control } : {}),
          });
        }
        const cellCount = sections.reduce((n, sec) => n + sec.cells.length, 0);
        const layerPairs = gridsOf(input).reduce((n, g) => n + g.pairs.length, 0);
        const failedCount = input.modelPairs ? input.modelPairs.reduce((n, g) => n + (g.failed?.length ?? 0), 0) : (input.failed?.length ?? 0);
        if (input.modelPairs) {
          const data: SweepReportData = {
            kind: 'ufg.sweepReport',
            version: 1,
            ...(input.title ? { title: input.title } : {}),
            sweepId: input.sweepId,
            modelA: '',
            modelB: '',
            layersA: [],
            layersB: [],
            metrics,
            cells: [],
            ...(input.warnings.length > 0 ? { warnings: input.warnings } : {}),
            models: modelEntries(input.modelPairs),
            modelPairs: sections,
            summary: sweepSummary(sections, metrics),
          };
          await writer.writeJson(REPORT_JSON, data);
          await writer.writeFile(REPORT_HTML, renderSweepReportHtml(data));
          return { counts: { cells: cellCount, layerPairs, failedPairs: failedCount, modelPairs: sections.length } };
        }
        const { cells } = sections[0]!;
        const data: SweepReportData = {
          kind: 'ufg.sweepReport',
          version: 1,
          ...(input.title ? { title: input.title } : {}),
          sweepId: input.sweepId,
          modelA: input.modelA,
          modelB: input.modelB,
          layersA: input.layersA,
          layersB: input.layersB,
          metrics,
          cells,
          ...(input.failed && input.failed.length > 0 ? { failed: input.failed } : {}),
          ...(input.warnings.length > 0 ? { warnings: input.warnings } : {}),
          ...(input.correspondenceId ? { correspondence: await correspondenceView(store, input.correspondenceId) } : {}),
        };
        await writer.writeJson(REPORT_JSON, data);
        await writer.writeFile(REPORT_HTML, renderSweepReportHtml(data));
        const counts: Record<string, number> = { cells: cells.length, layerPairs, failedPairs: failedCount };
        return { counts };
      });
      // Publishing is idempotent (atomic overwrite), so it runs on reuse too: a resumed sweep or a
      // new outDir gets the files.
      await mkdir(join(input.outDir, 'maps'), { recursive: true });
      const resultsPath = join(input.outDir, 'results.parquet');
      const reportPath = join(input.outDir, 'report.html');
      await writeFileAtomic(resultsPath, await store.readFile(input.resultsId, RESULTS_FILE));
      await writeFileAtomic(reportPath, await store.readFile(manifest.id, REPORT_HTML));
      const mapPaths: string[] = [];
      for (const g of gridsOf(input)) {
        for (const p of sorted(g.pairs)) {
          const path = join(input.outDir, mapFileName(p, input.modelPairs ? g : undefined));
          await mkdir(dirname(path), { recursive: true });
          await writeFileAtomic(path, await store.readFile(p.mapId, MAP_HTML));
          mapPaths.push(path);
        }
      }
      return { id: manifest.id, reused, resultsPath, reportPath, mapPaths };
    });
}
