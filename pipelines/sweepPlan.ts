// What a sweep will compute, per model and layer, before anything runs: the tapped tensor, the SAE
// file, and the hookpoint that SAE was trained on. `ufg sweep plan` prints it; the validate stage
// computes it (so a wrong mapping fails in seconds) and the sweep carries it into the results.
import { relative } from 'node:path';
import type { SweepConfig, SweepModelConfig } from './config.ts';
import { UserInputError, isUserInputError } from './errors.ts';
import { loadOnnxModel } from './model/loadOnnx.ts';
import { presetLayers, resolveTaps, type Tap } from './model/presets.ts';
import { describeLayer } from './sae/hookpoint.ts';
import { resolveLayerSaes, type LayerSae, type SaeConvention } from './sae/layerSaes.ts';
import { configFieldOf, sweepModels } from '../workflows/modelPairs.ts';

/** A model of the sweep by key (`a`, `b`, …, `a~ceiling`, `a~floor`). */
export type Side = string;

export interface PlanRow {
  side: Side;
  model: string;
  layer: number;
  /** The graph tensor tapped for the layer. */
  tensor: string;
  sae: LayerSae;
}

export interface SweepPlan {
  convention: SaeConvention;
  /** hidden_states available per model (0..n-1). */
  numLayers: Record<Side, number>;
  rows: PlanRow[];
}

/** Re-raises a problem found in a file as an error on the config field that names the file. */
export function onField(configFile: string, field: string, e: unknown): never {
  if (!isUserInputError(e)) throw e;
  throw new UserInputError(`${field}: ${e.message}`, configFile);
}

async function tapsOf(side: Side, m: SweepModelConfig, configFile: string): Promise<{ taps: Tap[]; numLayers: number }> {
  // A control's layers are its source model's (the floor's graph is the source model's too).
  const field = `models.${side.split('~')[0]}`;
  let model;
  try {
    model = await loadOnnxModel(m.model);
  } catch (e) {
    onField(configFile, `${field}.model`, e);
  }
  const graph = model.proto.graph!;
  if (m.pattern !== undefined) {
    const taps = m.layers.map((layer, i) => {
      try {
        return resolveTaps(graph, { pattern: m.pattern }, [layer], m.model)[0]!;
      } catch (e) {
        onField(configFile, `${field}.layers[${i}]`, e);
      }
    });
    return { taps, numLayers: Math.max(...m.layers) + 1 };
  }
  let all: Tap[];
  try {
    all = presetLayers(graph, m.preset, m.model);
  } catch (e) {
    onField(configFile, `${field}.preset`, e);
  }
  const taps = m.layers.map((layer, i) => {
    const tap = all[layer];
    if (!tap) throw new UserInputError(`${field}.layers[${i}]: layer ${layer} out of range: ${m.model} has hidden_states 0..${all.length - 1} (preset ${m.preset}, 0 = embeddings)`, configFile);
    return tap;
  });
  return { taps, numLayers: all.length };
}

export function saeConvention(config: Pick<SweepConfig, 'compat'>): SaeConvention {
  return config.compat === 'reference' ? 'reference' : 'trained-tensor';
}

/** The SAE of every layer of one model, errors naming the config field. */
export async function planModelSaes(side: Side, m: SweepModelConfig, convention: SaeConvention, configFile: string): Promise<LayerSae[]> {
  try {
    return await resolveLayerSaes({ sae: m.sae, layers: m.layers, ...(m.allowSharedSae ? { allowSharedSae: true } : {}) }, convention);
  } catch (e) {
    onField(configFile, `${configFieldOf(side)}.sae`, e);
  }
}

export async function planSweep(config: SweepConfig): Promise<SweepPlan> {
  const file = config.source ?? 'sweep config';
  const convention = saeConvention(config);
  const rows: PlanRow[] = [];
  const numLayers = {} as Record<Side, number>;
  for (const { key: side, config: m } of sweepModels(config)) {
    const { taps, numLayers: n } = await tapsOf(side, m, file);
    numLayers[side] = n;
    const saes = await planModelSaes(side, m, convention, file);
    taps.forEach((tap, i) => rows.push({ side, model: m.name, layer: tap.layer, tensor: tap.tensor, sae: saes[i]! }));
  }
  return { convention, numLayers, rows };
}

/** Warnings of the plan: layers whose SAE was (or may have been) trained on another tensor. */
export function planWarnings(plan: SweepPlan): string[] {
  return plan.rows.flatMap((r) => (r.sae.warning ? [`${configFieldOf(r.side)} (${r.model}) layer ${r.layer}: ${r.sae.warning}`] : []));
}

/**
 * The plan as a text table (paths relative to `baseDir`), then its notes (compat reference) and,
 * unless the caller shows them elsewhere, its warnings.
 */
export function formatPlan(plan: SweepPlan, baseDir: string, opts: { warnings?: boolean } = {}): string {
  const head = ['model', 'layer', 'tapped tensor', 'SAE file', 'hookpoint (read from)', 'SAE trained on', 'match'];
  const shown = (file: string) => (relative(baseDir, file).startsWith('..') ? file : relative(baseDir, file));
  const body = plan.rows.map((r) => {
    const h = r.sae.hookpoint;
    const match = !h ? 'unknown' : h.trainedOn === r.layer ? 'yes' : r.sae.note ? 'offset (compat reference)' : 'NO';
    return [`${r.side}: ${r.model}`, String(r.layer), r.tensor, shown(r.sae.file), h ? `${h.name} (${h.from})` : 'unknown', h ? describeLayer(h.trainedOn) : 'unknown', match];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  for (const r of plan.rows) if (r.sae.note) out.push(`note: ${configFieldOf(r.side)} (${r.model}) layer ${r.layer}: ${r.sae.note}`);
  if (opts.warnings !== false) out.push(...planWarnings(plan).map((w) => `warning: ${w}`));
  return out.join('\n');
}
