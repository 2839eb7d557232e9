// Pipeline stage for the feature-map page: pick at most `maxPoints` features per side (the
// best-correlated pairs first), lay each side out with UMAP on its decoder directions, and
// assemble FeatureMapData. No scores are computed here; they arrive precomputed.
import { mat, type Mat } from '../kernels/gemm.ts';
import { groupsFromLabels, type Categories } from './categories.ts';
import { umapLayout, type UmapOptions } from './umapLayout.ts';
import type { FeatureMapData, MapPoint, MappingMethod, MetricSet, ModelSide, SemanticGroup } from './types.ts';

export interface FeatureMapSideInput extends ModelSide {
  /** Decoder rows of the candidate features (rows × d_model), row i is featureIds[i]. */
  decoder: Mat;
  featureIds: number[];
  labels: string[];
}

export interface FeatureMapInput {
  sideA: FeatureMapSideInput;
  sideB: FeatureMapSideInput;
  method: MappingMethod;
  /** Mapped pairs as row indices into sideA/sideB decoders. */
  pairs: { a: number; b: number; correlation: number }[];
  /** Keyword categories; groups are derived from labels. Alternatively pass `groups`. */
  categories?: Categories;
  groups?: SemanticGroup[];
  metrics?: FeatureMapData['metrics'];
  provenance?: Record<string, string>;
  title?: string;
  /** Points per side, default 2 000. */
  maxPoints?: number;
  umap?: UmapOptions;
}

function checkSide(name: string, s: FeatureMapSideInput): void {
  if (s.featureIds.length !== s.decoder.rows || s.labels.length !== s.decoder.rows)
    throw new Error(
      `${name}: ${s.decoder.rows} decoder rows but ${s.featureIds.length} ids and ${s.labels.length} labels`,
    );
}

/** Rows to keep per side: paired rows by falling |correlation|, then unpaired rows in order. */
export function selectRows(rowsA: number, rowsB: number, pairs: FeatureMapInput['pairs'], max: number) {
  const keepA: number[] = [];
  const keepB: number[] = [];
  const inA = new Map<number, number>();
  const inB = new Map<number, number>();
  const take = (keep: number[], seen: Map<number, number>, r: number) => {
    if (!seen.has(r) && keep.length < max) {
      seen.set(r, keep.length);
      keep.push(r);
    }
  };
  const byStrength = [...pairs].sort((p, q) => Math.abs(q.correlation) - Math.abs(p.correlation));
  for (const p of byStrength) {
    // A pair is drawn only if both ends fit.
    if ((inA.has(p.a) || keepA.length < max) && (inB.has(p.b) || keepB.length < max)) {
      take(keepA, inA, p.a);
      take(keepB, inB, p.b);
    }
  }
  for (let r = 0; r < rowsA; r++) take(keepA, inA, r);
  for (let r = 0; r < rowsB; r++) take(keepB, inB, r);
  const keptPairs = pairs
    .filter((p) => inA.has(p.a) && inB.has(p.b))
    .map((p) => ({ a: inA.get(p.a)!, b: inB.get(p.b)!, correlation: p.correlation }));
  return { keepA, keepB, pairs: keptPairs };
}

function pickRows(m: Mat, rows: number[]): Mat {
  const out = new Float32Array(rows.length * m.cols);
  rows.forEach((r, i) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return mat(rows.length, m.cols, out);
}

async function layoutSide(s: FeatureMapSideInput, rows: number[], umap: UmapOptions): Promise<MapPoint[]> {
  const coords = await umapLayout(pickRows(s.decoder, rows), umap);
  return rows.map((r, i) => ({ id: s.featureIds[r]!, label: s.labels[r]!, x: coords[i]![0], y: coords[i]![1] }));
}

export async function buildFeatureMap(input: FeatureMapInput): Promise<FeatureMapData> {
  checkSide('sideA', input.sideA);
  checkSide('sideB', input.sideB);
  for (const p of input.pairs) {
    if (!(p.a >= 0 && p.a < input.sideA.decoder.rows && p.b >= 0 && p.b < input.sideB.decoder.rows))
      throw new Error(`pair (${p.a}, ${p.b}) is outside the decoder rows`);
  }
  const max = input.maxPoints ?? 2000;
  const sel = selectRows(input.sideA.decoder.rows, input.sideB.decoder.rows, input.pairs, max);
  const umap = input.umap ?? {};
  // The two panels lay out side by side (each in a thread of its own, umapLayout.ts).
  const [pointsA, pointsB] = await Promise.all([layoutSide(input.sideA, sel.keepA, umap), layoutSide(input.sideB, sel.keepB, umap)]);
  const groups = input.groups ?? (input.categories ? groupsFromLabels(pointsA, pointsB, input.categories) : []);
  const firstGroup = new Map<string, string>();
  for (const g of groups) {
    for (const id of g.a) if (!firstGroup.has(`a${id}`)) firstGroup.set(`a${id}`, g.name);
    for (const id of g.b) if (!firstGroup.has(`b${id}`)) firstGroup.set(`b${id}`, g.name);
  }
  const tag = (side: 'a' | 'b') => (p: MapPoint): MapPoint => {
    const c = firstGroup.get(`${side}${p.id}`);
    return c === undefined ? p : { ...p, category: c };
  };
  const side = (s: FeatureMapSideInput): ModelSide => ({ model: s.model, layer: s.layer, ...(s.sae ? { sae: s.sae } : {}) });
  const emptyMetrics: MetricSet = {};
  return {
    kind: 'ufg.featureMap',
    version: 1,
    ...(input.title ? { title: input.title } : {}),
    sideA: side(input.sideA),
    sideB: side(input.sideB),
    method: input.method,
    pointsA: pointsA.map(tag('a')),
    pointsB: pointsB.map(tag('b')),
    pairs: sel.pairs,
    groups,
    metrics: input.metrics ?? { selection: emptyMetrics, groups: {} },
    provenance: input.provenance ?? {},
  };
}
