// What activities take and return. Temporal carries references, not data: every argument and
// result here is artifact ids plus small summaries (well under the 256 KB payload warning).
// Type-only module, so workflows can import it without pulling Node APIs into their bundle.
import type { SweepConfig, SweepCorpusConfig, SweepModelConfig } from '../pipelines/config.ts';
import type { FilterCounts } from '../pipelines/pair/filters.ts';
import type { LabelCounts } from '../pipelines/pair/pairLayer.ts';
import type { ScoreWithNull } from '../pipelines/pair/pairedScores.ts';
import type { SaeConvention } from '../pipelines/sae/layerSaes.ts';
import type { SweepWorkEstimate } from '../pipelines/work/weights.ts';

/** Every activity result names its artifact and whether it was found finished (resume reuse). */
export interface ArtifactRef {
  id: string;
  reused: boolean;
  /** Other artifacts the activity computed on the way (e.g. the category pairings), for the sweep's count. */
  alsoProduced?: number;
}

/** The two sides of a layer pair. */
export type Side = 'a' | 'b';

/**
 * What a long activity's heartbeat details carry besides its own fields: the work done so far out
 * of its total, in the activity's natural unit (tokens extracted, block pairs correlated,
 * permutations scored, categories analysed). `ufg sweep start` reads it from the describe of the
 * workflow that runs the activity to advance its bar with work, not stages (cli/sweepWork.ts).
 */
export interface WorkHeartbeat {
  unit: string;
  done: number;
  total: number;
}

/** A model of the sweep by its config key (`a`, `b`, …, or a control: `a~ceiling`, `a~floor`). */
export type ModelKey = string;

/** Two models compared, by key (absent on the outcomes of a two-model sweep: `a` and `b`). */
export interface ModelPairKeys {
  a: ModelKey;
  b: ModelKey;
}

export interface ValidateResult {
  /** hidden_states available per model (0..n-1), by model key. */
  numLayers: Record<ModelKey, number>;
  numDocs: number;
  /** The layer → tapped tensor → SAE → hookpoint table (pipelines/sweepPlan.ts formatPlan). */
  plan: string;
  /** SAEs applied to another tensor than the one they were trained on (explicit or shared mappings). */
  warnings: string[];
  /** What the progress bar weighs the sweep's activities by (absent from runs of older code). */
  work?: SweepWorkEstimate;
}

export interface SourcesInput {
  side: ModelKey;
  corpus: SweepCorpusConfig;
  model: SweepModelConfig;
  /** Which SAE a layer gets (by its trained tensor, or the original code's offset). */
  convention: SaeConvention;
  /** The sweep config file, for errors on its fields. */
  configFile: string;
  /**
   * An artifact that stands in for the model file (the floor control's random-init copy, whose
   * `model.onnx` is `model.model`): used as the model's id instead of registering the file.
   */
  modelId?: string;
}

export interface ModelSources {
  corpus: string;
  model: string;
  tokenizer: string;
  /** Per requested layer, the SAE folder registered as a source. */
  saeByLayer: Record<string, string>;
  /** Per requested layer, that folder's path as the config names it (where later stages read it). */
  saePathByLayer: Record<string, string>;
  /** Per requested layer, the hookpoint its SAE was trained on (`layers.0 → hidden_states[1]`, or `unknown`). */
  saeHookpoints: Record<string, string>;
  /** How many of these source artifacts already existed. */
  reused: number;
  registered: number;
}

/*
 * A source is read from the path the current config gives (`…Path`, or `corpus.path`), checked
 * against the content its id was registered with (activities/storeAccess.ts sourceAt): never from
 * the path recorded when the content was first registered, which may be another sweep's.
 */

export interface TokenizeInput {
  corpusId: string;
  tokenizerId: string;
  tokenizerPath: string;
  corpus: SweepCorpusConfig;
  /** models.<side>.addSpecialTokens; absent = the tokenizer's post-processor (Hugging Face's default). */
  addSpecialTokens?: boolean;
}

export interface TokenizeResult extends ArtifactRef {
  numDocs: number;
  numTokens: number;
}

export interface ExtractInput {
  modelId: string;
  modelPath: string;
  tokenizerId: string;
  tokenizerPath: string;
  tokensId: string;
  layers: number[];
  preset: SweepModelConfig['preset'];
  pattern?: string;
  batchSize: number;
  maxLength: number;
  chunkTokens: number;
  /** corpus.keepSpecialPositions: write special-token positions too (default: fed to the model, not written). */
  keepSpecialPositions: boolean;
}

export interface ExtractResult extends ArtifactRef {
  /** Rows written (kept positions). */
  numTokens: number;
  /** Real positions left out because they hold special tokens. */
  specialPositions: number;
  numChunks: number;
  /** Chunks found persisted by an earlier attempt (0 on a fresh run). */
  resumedFromChunk: number;
  widths: Record<string, number>;
}

export interface FeatureStatsInput {
  extractId: string;
  saeId: string;
  saePath: string;
  modelId: string;
  /** The model file (error messages). */
  modelPath: string;
  /** The model's display name (warnings). */
  model: string;
  layer: number;
  mode: SweepConfig['pairing']['encode'];
  /** Fail instead of warning when the SAE fits the layer badly. */
  strict: boolean;
}

/** An SAE's fit on the corpus at its layer (pipelines/sae/fit.ts), null where undefined. */
export type StoredFit = {
  numTokens: number;
  fvu: number | null;
  l0: number | null;
  deadFraction: number | null;
};

export interface FeatureStatsResult extends ArtifactRef {
  numFeatures: number;
  dIn: number;
  fit: StoredFit;
  /** Set when the fit suggests the SAE was trained on another tensor (FVU above the warning level). */
  warning?: string;
}

/** One side of a layer pair, as the pair workflow receives it from model prep. */
export interface PairSide {
  model: string;
  layer: number;
  extractId: string;
  saeId: string;
  saePath: string;
  statsId: string;
  tokenizerId: string;
  tokenizerPath: string;
}

export interface LayerPairInput {
  /** Parent sweep id, for child ids and the page title. */
  sweepId: string;
  a: PairSide;
  b: PairSide;
  compat: SweepConfig['compat'];
  pairing: SweepConfig['pairing'];
  similarity: SweepConfig['similarity'];
  /** Absent in runs started before retrieval and stability existed: neither runs then. */
  retrieval?: SweepConfig['retrieval'];
  stability?: SweepConfig['stability'];
  categories?: string;
  maxMapPoints: number;
  heartbeatTimeoutSeconds: number;
}

export interface PairResult extends ArtifactRef {
  counts: FilterCounts & LabelCounts;
  /** Mean correlation of the kept pairs (null without any). */
  meanCorrFiltered: number | null;
  numPairs: number;
}

/** Per full-space metric, its observed score and p, or why it was skipped (the artifact has the rest). */
export interface ScoresResult extends ArtifactRef {
  n: number;
  metrics: Record<string, Pick<ScoreWithNull, 'observed' | 'p'> | { skipped: string }>;
}

/** Retrieval of one layer pair: per map and statistic, observed and p, or why it was skipped. */
export interface RetrievalActivityResult extends ArtifactRef {
  skipped?: string;
  maps: Record<string, Record<string, Pick<ScoreWithNull, 'observed' | 'p'>>>;
}

/** Pairing stability of one layer pair: partner agreement and kept-set Jaccard with their p. */
export interface StabilityActivityResult extends ArtifactRef {
  partner: Pick<ScoreWithNull, 'observed' | 'p'>;
  jaccard: Pick<ScoreWithNull, 'observed' | 'p'>;
}

export interface SubspacesResult extends ArtifactRef {
  categories: number;
  scored: number;
}

export interface FeatureMapResult extends ArtifactRef {
  points: number;
}

/** What a layer pair leaves behind: ids only (the results table reads the artifacts). */
export interface LayerPairOutcome {
  /** The model pair (N-model sweeps; absent in a two-model sweep: `a` and `b`). */
  models?: ModelPairKeys;
  layerA: number;
  layerB: number;
  pairId: string;
  scoresId: string;
  subspacesId: string;
  mapId: string;
  /** Cross-model retrieval and pairing stability (absent when not run). */
  retrievalId?: string;
  stabilityId?: string;
  /** The selection-null artifact (similarity.null includes "selection"; absent in outcomes of older runs). */
  selectionId?: string;
  /** The bootstrap artifact for the layer correspondence (similarity.bootstrap set; absent otherwise and in older runs). */
  bootstrapId?: string;
  reused: number;
  produced: number;
}

/** A layer pair an earlier run of the sweep finished, and the input it would run with now. */
export interface FinishedPairCandidate {
  input: LayerPairInput;
  outcome: LayerPairOutcome;
}

/** One model's SAEs as the results need them: each layer's feature-stats artifact (its fit) and hookpoint. */
export interface SideSaes {
  statsByLayer: Record<string, string>;
  hookpoints: Record<string, string>;
}

/** One model pair's grid: the two models, their layers and SAEs, and its finished layer pairs. */
export interface ModelPairGrid {
  modelA: string;
  modelB: string;
  layersA: number[];
  layersB: number[];
  saes: Record<Side, SideSaes>;
  pairs: LayerPairOutcome[];
  /** The layer-correspondence artifact (similarity.bootstrap set). */
  correspondenceId?: string;
}

/** A model pair of an N-model sweep: its keys, its grid, and whether it is a control's. */
export interface KeyedModelPairGrid extends ModelPairGrid, ModelPairKeys {
  control?: 'ceiling' | 'floor';
  /** Its layer pairs that failed. */
  failed?: FailedLayerPair[];
}

interface ResultsCommon {
  sweepId: string;
  /** Which measures the metric names ran (`svcca` under reference) and how pairs were made. */
  compat: SweepConfig['compat'];
  pairingMethod: SweepConfig['pairing']['method'];
  /** SAE mappings and fits to look at, shown on the report. */
  warnings: string[];
}

/** A two-model sweep (models `a` and `b`): the shape every sweep had before N models. */
export interface TwoModelResultsInput extends ResultsCommon, ModelPairGrid {
  modelPairs?: undefined;
}

/** An N-model sweep (or one with controls): every model pair's grid. */
export interface ManyModelResultsInput extends ResultsCommon {
  modelPairs: KeyedModelPairGrid[];
}

export type ResultsInput = TwoModelResultsInput | ManyModelResultsInput;

export interface ResultsTableResult extends ArtifactRef {
  rows: number;
}

/** A layer pair that did not finish, and why (one line: the activity and its error). */
export interface FailedLayerPair {
  /** The model pair (N-model sweeps; absent in a two-model sweep). */
  models?: ModelPairKeys;
  layerA: number;
  layerB: number;
  error: string;
}

export interface ReportExtras {
  title?: string;
  /** Layer pairs that failed (two-model sweeps; N-model sweeps list them per model pair): drawn as failed cells, with the error. */
  failed?: FailedLayerPair[];
  resultsId: string;
  outDir: string;
}

export type ReportInput = ResultsInput & ReportExtras;

export interface RandomInitInput {
  /** The source model (registered) and its file, as the config names it. */
  modelId: string;
  modelPath: string;
  seed: number;
}

export interface RandomInitResult extends ArtifactRef {
  /** The random-init copy's model.onnx in the store (read through the store, never edited). */
  path: string;
  /** Float initializers re-drawn. */
  tensors: number;
}

export interface ReportResult extends ArtifactRef {
  /** Files published to the sweep's outDir. */
  resultsPath: string;
  reportPath: string;
  mapPaths: string[];
}
