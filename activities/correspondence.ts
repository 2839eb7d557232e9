// The sweep's layer correspondence (cpu queue): per full-space metric, each layer of A with the
// layer of B of the largest effect and bootstrap intervals (pipelines/similarity/
// layerCorrespondence.ts), from every finished pair's bootstrap artifact. Its own artifact; the
// results table gets one row per (metric, layer of A) and the report a curve with its band.
import { layerCorrespondence, type CorrespondenceRow } from '../pipelines/similarity/layerCorrespondence.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { readBootstrap } from './bootstrap.ts';
import { nanToNull } from './pair.ts';
import { runActivity } from './context.ts';
import { produce, readJsonArtifact } from './storeAccess.ts';
import type { ArtifactRef, LayerPairOutcome } from './types.ts';

export const CORRESPONDENCE_FILE = 'correspondence.json';
/** Central interval level of every correspondence interval. */
export const CORRESPONDENCE_LEVEL = 0.95;

export interface StoredCorrespondence {
  level: number;
  metrics: { metric: string; largerIsMoreSimilar: boolean; rows: CorrespondenceRow[] }[];
}

export interface CorrespondenceInput {
  pairs: LayerPairOutcome[];
}

function withBootstrap(pairs: readonly LayerPairOutcome[]): (LayerPairOutcome & { bootstrapId: string })[] {
  return pairs.filter((p): p is LayerPairOutcome & { bootstrapId: string } => p.bootstrapId !== undefined).sort((p, q) => p.layerA - q.layerA || p.layerB - q.layerB);
}

export function correspondenceSpec(input: CorrespondenceInput) {
  return {
    stage: 'correspondence',
    codeVersion: codeVersionFor('correspondence'),
    params: { level: CORRESPONDENCE_LEVEL },
    inputs: withBootstrap(input.pairs).map((p) => p.bootstrapId),
  };
}

export function correspondenceActivity(store: ArtifactStore) {
  return (input: CorrespondenceInput): Promise<ArtifactRef> =>
    runActivity(async () => {
      const { manifest, reused } = await produce(store, correspondenceSpec(input), async (writer) => {
        const cells = new Map<string, { largerIsMoreSimilar: boolean; cells: Parameters<typeof layerCorrespondence>[0][number][] }>();
        for (const p of withBootstrap(input.pairs)) {
          for (const m of (await readBootstrap(store, p.bootstrapId)).metrics) {
            if (m.effect === null) continue;
            const entry = cells.get(m.metric) ?? { largerIsMoreSimilar: m.largerIsMoreSimilar, cells: [] };
            entry.cells.push({ layerA: p.layerA, layerB: p.layerB, effect: m.effect, bootstrapEffects: m.bootstrapEffects.map((v) => v ?? Number.NaN) });
            cells.set(m.metric, entry);
          }
        }
        const out: StoredCorrespondence = {
          level: CORRESPONDENCE_LEVEL,
          metrics: [...cells].map(([metric, e]) => ({ metric, largerIsMoreSimilar: e.largerIsMoreSimilar, rows: layerCorrespondence(e.cells, e.largerIsMoreSimilar, CORRESPONDENCE_LEVEL) })),
        };
        await writer.writeJson(CORRESPONDENCE_FILE, nanToNull(out));
        return { counts: { metrics: out.metrics.length, layersA: Math.max(0, ...out.metrics.map((m) => m.rows.length)) } };
      });
      return { id: manifest.id, reused };
    });
}

export async function readCorrespondence(store: ArtifactStore, id: string): Promise<StoredCorrespondence> {
  const c = await readJsonArtifact<StoredCorrespondence>(store, id, CORRESPONDENCE_FILE);
  const num = (v: number | null) => v ?? Number.NaN;
  return { ...c, metrics: c.metrics.map((m) => ({ ...m, rows: m.rows.map((r) => ({ ...r, effectLow: num(r.effectLow), effectHigh: num(r.effectHigh), bestBLow: num(r.bestBLow), bestBHigh: num(r.bestBHigh), bestShare: num(r.bestShare) })) })) };
}
