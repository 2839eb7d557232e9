// How much work each activity of a sweep is, relative to the others, so a progress bar can
// advance with work done instead of with stages finished. A weight is an estimated duration in
// seconds on a nominal CPU worker: a fixed cost per activity (loading files, building graphs,
// starting sessions: what dominates tiny sweeps) plus its arithmetic at a nominal rate. Only the
// ratios matter: the bar shows the weighted fraction done, and the ETA divides what is left by
// the throughput measured on this sweep (pipelines/render/progress.ts), not by the nominal rate.
// The fixed costs are what the demo's activities take on a 2-core machine (extract ~2 s, feature
// statistics ~1 s, pairing ~2.5 s, 5 metrics × 200 permutations ~5–8 s, a 200-point map ~4 s).
// Pure arithmetic on what validation measured (pipelines/work/estimate.ts), so the client can
// compute it without the files.

/** A model of the sweep by its key (`a`, `b`, … as in the config's `models`). */
export type WorkSide = string;

/** An SAE's shape: features (rows of W_dec) × model width. */
export interface SaeShape {
  features: number;
  dIn: number;
}

/** What validation measured of a sweep's inputs: enough to weigh every activity it will run. */
export interface SweepWorkEstimate {
  /** Tokens each model reads (documents capped at corpus.maxLength; ~4 characters a token). */
  tokens: number;
  /** Per model: parameters (its ONNX file's bytes / 4) and the bytes its sources register (hashed once). */
  models: Record<WorkSide, { params: number; sourceBytes: number }>;
  /** Per model and layer (as a string key): the SAE's shape. */
  saes: Record<WorkSide, Record<string, SaeShape>>;
  permutations: number;
  /** Full-space metrics per layer pair, and semantic categories (each scored with SVCCA and RSA). */
  metrics: number;
  categories: number;
  mapPoints: number;
}

/** Multiply-adds per second of the nominal worker (ONNX Runtime on a few CPU cores). */
export const NOMINAL_FLOPS = 2e10;
/** Seconds per permuted score beyond its arithmetic: one kernel call per batch, JS around it. */
const PER_PERMUTATION_S = 4e-3;
/** Bytes hashed per second when registering sources (sha256). */
const HASH_BYTES_PER_S = 1e9;
/** Tokens tokenized per second. */
const TOKENIZE_PER_S = 2e5;
/** Seconds per map point for the feature map's layout (UMAP epochs over a k-NN graph). */
const MAP_S_PER_POINT = 0.02;
/**
 * Kept pairs per layer pair as a fraction of the smaller SAE (after the keyword, one-to-one and
 * correlation filters); the similarity stages' cost grows with it. A rough prior: the real count
 * is known only once the pairing ran.
 */
const KEPT_FRACTION = 0.15;

export interface ModelPrepWeights {
  registerSources: number;
  tokenize: number;
  extract: number;
  /** By layer (string key). */
  featureStats: Record<string, number>;
}

export interface LayerPairWeights {
  pairLayer: number;
  scoreLayerPair: number;
  analyseSubspaces: number;
  renderFeatureMap: number;
}

const flops = (n: number) => n / NOMINAL_FLOPS;

/** A model's preparation; a model the estimate does not know (a control) gets the fixed costs alone. */
export function modelPrepWeights(w: SweepWorkEstimate, side: WorkSide): ModelPrepWeights {
  const T = w.tokens;
  const featureStats: Record<string, number> = {};
  // Encode (T·n·d) and reconstruct (T·n·d) for the statistics and the fit, twice each.
  for (const [layer, s] of Object.entries(w.saes[side] ?? {})) featureStats[layer] = 1 + flops(4 * T * s.features * s.dIn);
  const m = w.models[side] ?? { params: 0, sourceBytes: 0 };
  return {
    registerSources: 0.2 + m.sourceBytes / HASH_BYTES_PER_S,
    tokenize: 0.2 + T / TOKENIZE_PER_S,
    // A forward pass: 2 multiply-adds per parameter per token.
    extract: 2 + flops(2 * m.params * T),
    featureStats,
  };
}

export function layerPairWeights(w: SweepWorkEstimate, layerA: number, layerB: number, models: { a: WorkSide; b: WorkSide } = { a: 'a', b: 'b' }): LayerPairWeights {
  const a = w.saes[models.a]?.[String(layerA)] ?? { features: 0, dIn: 0 };
  const b = w.saes[models.b]?.[String(layerB)] ?? { features: 0, dIn: 0 };
  const T = w.tokens;
  const kept = KEPT_FRACTION * Math.min(a.features, b.features);
  const d = a.dIn + b.dIn;
  // One permuted score: Gram-sized products over the kept rows (SVCCA, CKA, Procrustes) and a
  // k × k rank correlation (RSA), plus the per-call cost.
  const perPermutation = (k: number) => PER_PERMUTATION_S + flops(k * d * d + k * k);
  return {
    // Both sides encoded from residuals, then every A feature correlated with every B feature.
    pairLayer: 2 + flops(2 * T * (a.features * a.dIn + b.features * b.dIn) + 2 * T * a.features * b.features),
    scoreLayerPair: 1 + w.metrics * w.permutations * perPermutation(kept),
    // Each category pairs its own features (a fraction of the kept ones) and scores SVCCA and RSA.
    analyseSubspaces: 1 + w.categories * 2 * w.permutations * perPermutation(kept / Math.max(1, w.categories)),
    renderFeatureMap: 0.5 + MAP_S_PER_POINT * w.mapPoints,
  };
}

/** validate, results and report: small next to the rest, but not nothing. */
export const SWEEP_STAGE_WEIGHTS = { validateSweep: 0.5, writeResults: 0.5, writeReport: 1 } as const;
