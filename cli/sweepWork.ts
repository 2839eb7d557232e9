// How much of a sweep's work is done, from what the client can see: the sweep's progress query
// (which parts finished), each running child workflow's own progress query (which of its
// activities finished) and its pending activities' heartbeat details (how far each running one
// is: `{ unit, done, total }`). Every activity counts with its weight (pipelines/work/weights.ts),
// so the bar moves with tokens extracted, block pairs correlated and permutations scored rather
// than with stages. Without validation's estimate (before it ran, or a sweep started by older
// code) every activity weighs the same.
import type { WorkHeartbeat } from '../activities/types.ts';
import { layerPairWeights, modelPrepWeights, SWEEP_STAGE_WEIGHTS, type SweepWorkEstimate } from '../pipelines/work/weights.ts';
import type { StageProgress, SweepProgress } from '../workflows/index.ts';
import type { ActivityInFlight } from './sweepClient.ts';

/** What a running child workflow shows: its progress query (if it answered) and its pending activities. */
export interface LiveChild {
  stage?: StageProgress;
  activities: ActivityInFlight[];
}

export interface SweepSnapshot {
  progress: SweepProgress;
  /** By workflow id: the children listed in `progress.running`. */
  children: Record<string, LiveChild>;
}

export interface WorkMeasure {
  /** Weighted work done and in all (same unit: estimated seconds, or activities without an estimate). */
  done: number;
  total: number;
  /** The heaviest running activity and its own count, e.g. `pairLayer A1↔B2 1200/4096 block pairs`. */
  detail?: string;
}

/** The activities each kind of child runs, in order, by the stage its progress query names. */
const FINISHED_BY_STAGE: Record<'prep' | 'pair', Record<string, string[]>> = {
  prep: { sources: [], tokenize: ['registerSources'], extract: ['registerSources', 'tokenize'], featureStats: ['registerSources', 'tokenize', 'extract'] },
  pair: { pair: [], 'similarity+subspaces': ['pairLayer'], featureMap: ['pairLayer', 'scoreLayerPair', 'analyseSubspaces'] },
};

/** A heartbeat's `{ unit, done, total }`, when it carries one. */
export function workOf(heartbeat: unknown): WorkHeartbeat | undefined {
  const h = heartbeat as Partial<WorkHeartbeat> | undefined;
  if (!h || typeof h.done !== 'number' || typeof h.total !== 'number' || typeof h.unit !== 'string' || !(h.total > 0)) return undefined;
  return { unit: h.unit, done: h.done, total: h.total };
}

/** The key of a running activity among its workflow's items: per-layer ones carry the layer. */
function activityKey(a: ActivityInFlight): string {
  const layer = (a.heartbeat as { layer?: unknown } | undefined)?.layer;
  return a.activity === 'featureStats' && typeof layer === 'number' ? `featureStats:${layer}` : a.activity;
}

interface Part {
  /** Weight by activity key (the names `StageProgress.finished` uses). */
  items: Record<string, number>;
  status: string;
  workflowId: string;
  kind: 'prep' | 'pair';
  name: string;
}

function partsOf(p: SweepProgress, w: SweepWorkEstimate | undefined): Part[] {
  // Each model's layers, from the layer pairs it takes part in (`a` and `b` in a two-model sweep).
  const layers: Record<string, Set<number>> = {};
  for (const x of p.pairs) {
    const keys = x.models ?? { a: 'a', b: 'b' };
    (layers[keys.a] ??= new Set()).add(x.layerA);
    (layers[keys.b] ??= new Set()).add(x.layerB);
  }
  const parts: Part[] = [];
  for (const side of Object.keys(p.prep)) {
    const weights = w ? modelPrepWeights(w, side) : undefined;
    const items: Record<string, number> = {
      registerSources: weights?.registerSources ?? 1,
      tokenize: weights?.tokenize ?? 1,
      extract: weights?.extract ?? 1,
    };
    for (const l of layers[side] ?? []) items[`featureStats:${l}`] = weights?.featureStats[String(l)] ?? 1;
    parts.push({ items, status: p.prep[side]!.status, workflowId: p.prep[side]!.workflowId, kind: 'prep', name: side });
  }
  for (const pair of p.pairs) {
    const weights = w ? layerPairWeights(w, pair.layerA, pair.layerB, pair.models) : undefined;
    const items: Record<string, number> = {
      pairLayer: weights?.pairLayer ?? 1,
      scoreLayerPair: weights?.scoreLayerPair ?? 1,
      analyseSubspaces: weights?.analyseSubspaces ?? 1,
      renderFeatureMap: weights?.renderFeatureMap ?? 1,
    };
    parts.push({ items, status: pair.status, workflowId: pair.workflowId, kind: 'pair', name: pair.models ? `${pair.models.a}@${pair.layerA}↔${pair.models.b}@${pair.layerB}` : `A${pair.layerA}↔B${pair.layerB}` });
  }
  return parts;
}

const sum = (xs: Iterable<number>) => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

export function measureSweepWork(s: SweepSnapshot): WorkMeasure {
  const p = s.progress;
  const w = p.work;
  const stage = (name: keyof typeof SWEEP_STAGE_WEIGHTS) => (w ? SWEEP_STAGE_WEIGHTS[name] : 1);
  let total = stage('validateSweep') + stage('writeResults') + stage('writeReport');
  let done = 0;
  if (p.stage !== 'validate') done += stage('validateSweep');
  if (p.stage === 'report' || p.stage === 'done') done += stage('writeResults');
  if (p.stage === 'done') done += stage('writeReport');
  let heaviest: { weight: number; text: string } | undefined;
  for (const part of partsOf(p, w)) {
    const all = sum(Object.values(part.items));
    total += all;
    // A failed or cancelled part does no more work: it counts as finished for the bar.
    if (part.status === 'done' || part.status === 'failed' || part.status === 'cancelled') {
      done += all;
      continue;
    }
    if (part.status !== 'running') continue;
    const child = s.children[part.workflowId];
    const finished = new Set(child?.stage?.finished ?? FINISHED_BY_STAGE[part.kind][child?.stage?.stage ?? ''] ?? []);
    for (const [key, weight] of Object.entries(part.items)) if (finished.has(key)) done += weight;
    for (const a of child?.activities ?? []) {
      const key = activityKey(a);
      const weight = part.items[key];
      const hb = workOf(a.heartbeat);
      if (weight === undefined || finished.has(key) || !hb) continue;
      done += weight * Math.min(1, Math.max(0, hb.done / hb.total));
      if (!heaviest || weight > heaviest.weight) heaviest = { weight, text: `${a.activity} ${part.name}${key.startsWith('featureStats:') ? ` layer ${key.slice(13)}` : ''} ${hb.done}/${hb.total} ${hb.unit}` };
    }
  }
  return { done: Math.min(done, total), total, ...(heaviest ? { detail: heaviest.text } : {}) };
}
