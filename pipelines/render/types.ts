// Data contract between the pipeline (which computes scores and layouts) and the report pages
// (which only draw them). Documented field by field in docs/report-data.md; the pages never
// recompute a score, so every number shown traces back to an artifact id carried here.

export const MAPPING_METHODS = ['greedy', 'hungarian', 'ot', 'decoder'] as const;
export type MappingMethod = (typeof MAPPING_METHODS)[number];

/** Metrics a feature map can show, in its column order (a column appears when some scope has it). */
export const METRIC_NAMES = ['cka-debiased', 'cka', 'rsa', 'procrustes', 'svcca', 'knn'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** One score against its permutation null. */
export interface MetricValue {
  observed: number;
  nullMean: number;
  nullSd: number;
  /** (1 + #{null ≥ observed}) / (1 + N) */
  p: number;
  /** Artifact that holds this score (optional: falls back to the map's provenance). */
  artifactId?: string;
}

export type MetricSet = Partial<Record<MetricName, MetricValue>>;

export interface ModelSide {
  /** e.g. "EleutherAI/pythia-70m" */
  model: string;
  layer: number;
  /** SAE description or path, shown only as text. */
  sae?: string;
}

/** One SAE feature drawn as a point. */
export interface MapPoint {
  /** SAE feature index in its dictionary. */
  id: number;
  /** Top activating words, joined with ", ". */
  label: string;
  /** 2-D UMAP coordinates (any scale; the page fits them to its panel). */
  x: number;
  y: number;
  /** First semantic group the label falls in, if any. */
  category?: string;
}

/** A mapped pair: indices into pointsA / pointsB (not feature ids). */
export interface FeaturePair {
  a: number;
  b: number;
  correlation: number;
}

/** A semantic subspace: the feature ids (not indices) of its members on each side. */
export interface SemanticGroup {
  name: string;
  a: number[];
  b: number[];
}

export interface FeatureMapData {
  kind: 'ufg.featureMap';
  version: 1;
  title?: string;
  sideA: ModelSide;
  sideB: ModelSide;
  method: MappingMethod;
  pointsA: MapPoint[];
  pointsB: MapPoint[];
  pairs: FeaturePair[];
  groups: SemanticGroup[];
  metrics: {
    /** Scores over every kept pair of this layer pair. */
    selection: MetricSet;
    /** Scores within each semantic group, keyed by group name. */
    groups: Record<string, MetricSet>;
  };
  /** Artifact ids the map was built from, by role (e.g. pairs, decoderA, decoderB, scores, umap). */
  provenance: Record<string, string>;
}

/** Observed score of one layer pair with its null. */
export interface SweepScore {
  observed: number;
  nullMean: number;
  nullSd?: number;
  /** (observed − nullMean) / nullSd; absent when the null has no spread. Negative = more similar for distances. */
  effect?: number;
  p: number;
  /** Benjamini–Hochberg q over every scored row of the sweep (the results table's `q`); stars use q ≤ 0.05. */
  q?: number;
  /** Uninformative by construction (drawn grey); why in `saturatedReason`. */
  saturated?: boolean;
  saturatedReason?: string;
  artifactId: string;
}

export interface SweepSubspace {
  name: string;
  /** Number of pairs in the subspace after its own one-to-one pairing. */
  n: number;
  svcca?: SweepScore;
  rsa?: SweepScore;
  /** Why a score was not computed (too few pairs, a null too coarse, saturated), by metric. */
  skipped?: { svcca?: string; rsa?: string };
}

/** How well one side's SAE fits the activations it is given (pipelines/sae/fit.ts); null = undefined. */
export interface SaeFitView {
  /** The hookpoint the SAE was trained on, e.g. `layers.0 → hidden_states[1]`, or `unknown`. */
  hookpoint: string;
  fvu: number | null;
  l0: number | null;
  deadFraction: number | null;
  /** The feature-stats artifact that holds the fit. */
  artifactId: string;
}

export interface SweepCell {
  layerA: number;
  layerB: number;
  svcca: SweepScore;
  rsa: SweepScore;
  /** Full-space scores of every metric the sweep ran, by metric name (svcca and rsa included). */
  scores?: Record<string, SweepScore>;
  /** How the pairs were mapped (shown on the card). */
  method?: MappingMethod;
  subspaces: SweepSubspace[];
  /** Pair counts after each filter stage, in pipeline order. */
  counts: { stage: string; count: number; artifactId?: string }[];
  /** Each side's SAE fit at this layer. */
  saeFit?: { a: SaeFitView; b: SaeFitView };
  /** Relative path (from the report file) to this pair's feature-map page. */
  featureMap?: string;
  /** The selection-aware null (similarity.null includes "selection"): full-space scores against it, and what each shift kept. */
  selection?: SweepSelection;
  /** Artifact of this layer pair's result row. */
  artifactId: string;
}

/** One layer pair's scores against the selection-aware null (re-pairing with B's documents shifted). */
export interface SweepSelection {
  /** By metric name; the score's null mean/sd are over the shifts' scores. */
  scores: Record<string, SweepScore>;
  /** Why a metric has no selection score (e.g. the shifts kept too few pairs to score it). */
  skipped?: Record<string, string>;
  /** Pairs each document shift kept after every filter, and that shift's pairing artifact. */
  shifts: { shift: number; pairs: number; artifactId: string }[];
  artifactId: string;
}

/** A full-space metric of the sweep: its heat-map title, and whether it is a distance. */
export interface SweepMetric {
  name: string;
  title?: string;
  /** false for distances (Procrustes): lower is more similar, and p counts nulls at or below. */
  largerIsMoreSimilar?: boolean;
}

export interface SweepReportData {
  kind: 'ufg.sweepReport';
  version: 1;
  title?: string;
  modelA: string;
  modelB: string;
  layersA: number[];
  layersB: number[];
  cells: SweepCell[];
  /** Heat-maps to draw, in order (default: svcca, rsa); scores come from `cells[].scores`. */
  metrics?: SweepMetric[];
  sweepId?: string;
  /** ISO timestamp of the report's inputs, shown as text. */
  createdAt?: string;
  /** Lines a reader must see first (SAEs that probably read another tensor than their own). */
  warnings?: string[];
  /** Layer pairs of a partial sweep that failed, with the error (drawn as failed cells). */
  failed?: SweepFailedCell[];
  /** Each layer of A, its best layer of B, with bootstrap intervals (similarity.bootstrap set). */
  correspondence?: SweepCorrespondence;
  /**
   * N-model sweeps (or sweeps with controls): the models, one section per model pair, and the model
   * × model summary drawn above them. The top-level modelA/modelB/layers/cells are then empty.
   */
  models?: SweepModelEntry[];
  modelPairs?: ModelPairSection[];
  summary?: SweepSummaryEntry[];
}

export type ControlKind = 'ceiling' | 'floor';

export interface SweepModelEntry {
  key: string;
  name: string;
  /** A control model: made from model `of` (the ceiling: another SAE; the floor: a random-init copy). */
  control?: ControlKind;
  of?: string;
}

/** One model pair's heat-maps and cards: the two models' keys and names, their layers and cells. */
export interface ModelPairSection {
  a: string;
  b: string;
  modelA: string;
  modelB: string;
  layersA: number[];
  layersB: number[];
  cells: SweepCell[];
  failed?: SweepFailedCell[];
  /** Layer pairs that ran but could not be scored (e.g. too few pairs left after the filters), and why. */
  unscored?: SweepFailedCell[];
  /** Set on a control's pair (its source model vs the control). */
  control?: ControlKind;
}

/**
 * The summary of one model pair and metric: its best layer pair by effect (largest; smallest for
 * distances), its score as the cell holds it. Absent `best`: no cell of the pair has an effect.
 */
export interface SweepSummaryEntry {
  a: string;
  b: string;
  metric: string;
  control?: ControlKind;
  best?: { layerA: number; layerB: number; score: SweepScore };
  /** Without a best: why (the unscored layer pairs' reasons, or that every score is saturated). */
  note?: string;
}

export interface SweepCorrespondence {
  /** Central interval level, e.g. 0.95. */
  level: number;
  metrics: {
    metric: string;
    largerIsMoreSimilar?: boolean;
    rows: { layerA: number; bestB: number; effect: number; effectLow: number | null; effectHigh: number | null; bestBLow: number | null; bestBHigh: number | null; bestShare: number | null }[];
  }[];
  artifactId: string;
}

export interface SweepFailedCell {
  layerA: number;
  layerB: number;
  error: string;
}
