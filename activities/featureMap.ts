// The per-layer-pair feature-map page (cpu queue): UMAP of each side's decoder rows, the kept
// pairs, semantic groups, and the precomputed scores with the ids of the artifacts holding them.
import type { ScoreWithNull } from '../pipelines/pair/pairedScores.ts';
import { topWordLabels } from '../pipelines/pair/labels.ts';
import { buildFeatureMap } from '../pipelines/render/buildFeatureMap.ts';
import { renderFeatureMapHtml } from '../pipelines/render/featureMapPage.ts';
import { METRIC_NAMES, type MetricName, type MetricSet, type MetricValue } from '../pipelines/render/types.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { sweepCategories } from './categories.ts';
import { runActivity } from './context.ts';
import { loadLayerPair, readKeptPairs, readTop } from './layerData.ts';
import { readScores, type StoredScores } from './scores.ts';
import { produce } from './storeAccess.ts';
import { readSubspaces } from './subspaces.ts';
import type { FeatureMapResult, LayerPairInput } from './types.ts';

export const MAP_JSON = 'map.json';
export const MAP_HTML = 'map.html';
const UMAP_SEED = 42;

export interface FeatureMapIds {
  pairId: string;
  scoresId: string;
  subspacesId: string;
}

export function featureMapSpec(input: LayerPairInput, ids: FeatureMapIds) {
  return {
    stage: 'umap',
    codeVersion: codeVersionFor('umap'),
    params: {
      maxPoints: input.maxMapPoints,
      seed: UMAP_SEED,
      categories: sweepCategories(input.categories),
      modelA: input.a.model,
      modelB: input.b.model,
      layerA: input.a.layer,
      layerB: input.b.layer,
    },
    inputs: [ids.pairId, ids.scoresId, ids.subspacesId, input.a.extractId, input.b.extractId, input.a.saeId, input.b.saeId],
  };
}

function metricValue(s: ScoreWithNull | { skipped: string }, artifactId: string): MetricValue | undefined {
  if ('skipped' in s || !Number.isFinite(s.observed)) return undefined;
  return { observed: s.observed, nullMean: s.nullMean, nullSd: s.nullSd, p: s.p, artifactId };
}

/** The page's metric columns from the full-space scores (metrics it has no column for stay in the results table). */
function selectionMetrics(scores: StoredScores, artifactId: string): MetricSet {
  const out: MetricSet = {};
  for (const s of scores.scores) {
    if (!(METRIC_NAMES as readonly string[]).includes(s.metric)) continue;
    const v = metricValue(s, artifactId);
    if (v) out[s.metric as MetricName] = v;
  }
  return out;
}

function metricSet(svcca: ScoreWithNull | { skipped: string }, rsa: ScoreWithNull | { skipped: string }, artifactId: string): MetricSet {
  const out: MetricSet = {};
  const s = metricValue(svcca, artifactId);
  const r = metricValue(rsa, artifactId);
  if (s) out.svcca = s;
  if (r) out.rsa = r;
  return out;
}

/** A feature's label on the page: its distinct label words joined with ", "; "" for a feature without a label. */
function labelsOf(words: (string[] | null)[]): string[] {
  return words.map((w) => (w === null ? '' : [...new Set(w.filter((x) => x !== ''))].join(', ')));
}

export function featureMapActivity(store: ArtifactStore) {
  return (input: LayerPairInput, ids: FeatureMapIds): Promise<FeatureMapResult> =>
    runActivity(async () => {
      const spec = featureMapSpec(input, ids);
      const { manifest, reused } = await produce(store, spec, async (writer) => {
        const { a, b, tokens, follows } = await loadLayerPair(store, input);
        const top = await readTop(store, ids.pairId);
        const kept = await readKeptPairs(store, ids.pairId);
        const scores = await readScores(store, ids.scoresId);
        const subspaces = await readSubspaces(store, ids.subspacesId);
        const side = (s: typeof input.a, d: typeof a, words: (string[] | null)[]) => ({
          model: s.model,
          layer: s.layer,
          sae: `${d.sae.source.layout}, ${d.sae.numFeatures} features`,
          decoder: d.decoder,
          featureIds: Array.from({ length: d.sae.numFeatures }, (_, i) => i),
          labels: labelsOf(words),
        });
        const groups: Record<string, MetricSet> = {};
        for (const c of subspaces) {
          const m = metricSet(c.svcca, c.rsa, ids.subspacesId);
          if (Object.keys(m).length > 0) groups[c.category] = m;
        }
        const data = await buildFeatureMap({
          sideA: side(input.a, a, topWordLabels(top.a, tokens, top.rule, follows)),
          sideB: side(input.b, b, topWordLabels(top.b, tokens, top.rule, follows)),
          method: input.pairing.method,
          pairs: kept.a.map((fa, i) => ({ a: fa, b: kept.b[i]!, correlation: kept.correlation[i]! })),
          categories: spec.params.categories,
          metrics: { selection: selectionMetrics(scores, ids.scoresId), groups },
          provenance: { pairs: ids.pairId, scores: ids.scoresId, subspaces: ids.subspacesId, decoderA: input.a.saeId, decoderB: input.b.saeId },
          title: `${input.a.model} L${input.a.layer} ↔ ${input.b.model} L${input.b.layer}`,
          maxPoints: input.maxMapPoints,
          umap: { seed: UMAP_SEED },
        });
        await writer.writeJson(MAP_JSON, data);
        await writer.writeFile(MAP_HTML, renderFeatureMapHtml(data));
        return { counts: { pointsA: data.pointsA.length, pointsB: data.pointsB.length, pairs: data.pairs.length } };
      });
      return { id: manifest.id, reused, points: (manifest.counts.pointsA ?? 0) + (manifest.counts.pointsB ?? 0) };
    });
}
