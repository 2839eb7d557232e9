// What validation measures of a sweep's inputs so the progress bar can weigh its activities
// (pipelines/work/weights.ts): file sizes (a stat each) and each SAE's shape from its safetensors
// header (a few KB read; no weights loaded). Cheap next to the checks validation already makes.
import { stat } from 'node:fs/promises';
import type { SweepConfig } from '../config.ts';
import { openSafetensorsFile } from '../sae/safetensors.ts';
import { builtinCategories, readCategoriesFile } from '../subspace/categories.ts';
import type { SweepPlan } from '../sweepPlan.ts';
import type { SaeShape, SweepWorkEstimate, WorkSide } from './weights.ts';

/** Characters per token of ordinary English text under BPE tokenizers (an estimate, capped per document). */
const CHARS_PER_TOKEN = 4;
/** Features per model dimension assumed when an SAE's shape cannot be read from a header. */
const ASSUMED_EXPANSION = 8;

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0; // validation has already named a missing file; the estimate just goes without it
  }
}

/**
 * The SAE's shape from W_dec in its safetensors header; for other layouts (Gemma Scope's npz),
 * from its size: encoder and decoder are 2·n·d f32 values, with n = ASSUMED_EXPANSION·d.
 */
export async function saeShapeOf(file: string): Promise<SaeShape> {
  if (file.endsWith('.safetensors')) {
    try {
      const shape = (await openSafetensorsFile(file)).entries.get('W_dec')?.shape;
      if (shape?.length === 2) return { features: shape[0]!, dIn: shape[1]! };
    } catch {
      // fall through to the size estimate
    }
  }
  const nd = (await sizeOf(file)) / 4 / 2;
  const dIn = Math.max(1, Math.round(Math.sqrt(nd / ASSUMED_EXPANSION)));
  return { features: Math.max(1, Math.round(nd / dIn)), dIn };
}

export async function estimateSweepWork(config: SweepConfig, plan: SweepPlan, docs: readonly string[]): Promise<SweepWorkEstimate> {
  const tokens = docs.reduce((s, d) => s + Math.min(config.corpus.maxLength, Math.ceil(d.length / CHARS_PER_TOKEN) + 1), 0);
  const corpusBytes = await sizeOf(config.corpus.path);
  const models = {} as SweepWorkEstimate['models'];
  const saes: SweepWorkEstimate['saes'] = {};
  for (const side of Object.keys(config.models) satisfies WorkSide[]) {
    const m = config.models[side]!;
    saes[side] = {};
    const modelBytes = await sizeOf(m.model);
    let saeBytes = 0;
    for (const row of plan.rows.filter((r) => r.side === side)) {
      saeBytes += await sizeOf(row.sae.file);
      saes[side]![String(row.layer)] = await saeShapeOf(row.sae.file);
    }
    models[side] = { params: modelBytes / 4, sourceBytes: corpusBytes + modelBytes + (await sizeOf(m.tokenizer)) + saeBytes };
  }
  const categories = Object.keys(config.categories !== undefined ? readCategoriesFile(config.categories) : builtinCategories()).length;
  return {
    tokens,
    models,
    saes,
    permutations: config.similarity.permutations,
    metrics: config.similarity.metrics.length,
    categories,
    mapPoints: config.maxMapPoints,
  };
}
