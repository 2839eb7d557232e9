// The sweep configuration: what a user writes in sweep.json, checked field by field (every error
// names the JSON path, e.g. `sweep.json: models.b.layers[2]: …`) and normalised (defaults filled,
// paths made absolute against the config file's folder). The normalised form is what workflows
// carry and what the sweep id hashes, so the same sweep written twice gets the same workflow id.
// Checks that need the files themselves (layer ranges, SAE per layer) run in the validate
// activity; this module does no I/O beyond what the caller hands it.
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { sha256Bytes } from '../storage/atomic.ts';
import { canonicalJson } from '../storage/artifactId.ts';
import { UserInputError } from './errors.ts';
import { PRESET_NAMES, type PresetName } from './model/presets.ts';
import type { EncodeMode } from './sae/types.ts';
import type { ScoreMode } from './pair/pairedScores.ts';
import { DEFAULT_POOL_SIZE } from './pair/oneToOne.ts';
import { DEFAULT_MIN_ACTIVATIONS, MAX_MIN_ACTIVATIONS } from './pair/labels.ts';
import { MEASURE_NAMES } from './similarity/registry.ts';
import type { MeasureName } from './similarity/types.ts';
import { MAP_KINDS, type MapKind } from './retrieval/mapKinds.ts';

export const SWEEP_CONFIG_VERSION = 1;

export interface SweepModelConfig {
  /** Display name (e.g. "EleutherAI/pythia-70m"); defaults to the model file name. */
  name: string;
  /** ONNX model file (absolute after parsing). */
  model: string;
  /** The model's tokenizer.json. */
  tokenizer: string;
  /**
   * SAE weights file, its folder, or a release folder (the SAE of each layer is the one trained on
   * that layer's tensor, by hookpoint); or an explicit map layer → path (absolute after parsing).
   */
  sae: string | Record<string, string>;
  /** Use one SAE file for several layers (refused otherwise: an SAE is trained on one tensor). */
  allowSharedSae?: boolean;
  /** hidden_states indices to compare (0 = embeddings, i = output of block i-1), ascending, unique. */
  layers: number[];
  /** Residual-stream naming preset; ignored when `pattern` is given. */
  preset: PresetName;
  pattern?: string;
  /**
   * Whether documents get the special tokens of the tokenizer's post-processor (Hugging Face's
   * `add_special_tokens`; Llama/Gemma: BOS). Absent = the tokenizer's default, as Hugging Face.
   */
  addSpecialTokens?: boolean;
}

export interface SweepCorpusConfig {
  path: string;
  /** JSONL field / Parquet column holding the text. */
  textField: string;
  /** First N non-empty documents; 0 = all. */
  numSamples: number;
  /** Ids per document, special tokens included (as Hugging Face's truncation=True, max_length). */
  maxLength: number;
  batchSize: number;
  /**
   * Keep positions holding special tokens (BOS, EOS, pad, specials in the text) in pairing,
   * statistics and labels. Default false: the models see them, but they are not extracted.
   */
  keepSpecialPositions: boolean;
}

/**
 * greedy: best A per B feature (the paper); hungarian / ot: one-to-one on a pool of the most active
 * features; decoder: one-to-one by decoder-row cosine on that pool (data-free assignment, for SAEs
 * of one width writing into one space: two layers of one model, or two SAEs of one layer).
 */
export const PAIRING_METHODS = ['greedy', 'hungarian', 'ot', 'decoder'] as const;
export type PairingMethod = (typeof PAIRING_METHODS)[number];

/**
 * Full-space metrics scored by default. `svcca` and `rsa` (the paper's scores, which the report's
 * heat-maps and the semantic subspaces use) must always be among them; under `compat: reference`
 * `svcca` is the original code's SVCCA (svcca-reference). The CKA shown is the debiased one
 * (unbiased HSIC): biased `cka` of few rows is near 1 even for unrelated rows; it stays available.
 */
export const DEFAULT_METRICS: readonly MeasureName[] = ['svcca', 'rsa', 'cka-debiased', 'knn', 'procrustes'];
export const REQUIRED_METRICS: readonly MeasureName[] = ['svcca', 'rsa'];

export interface SweepConfig {
  version: typeof SWEEP_CONFIG_VERSION;
  title?: string;
  corpus: SweepCorpusConfig;
  /**
   * The models, by key (`a`, `b`, … or any `[A-Za-z0-9_-]` name): two or more. Every pair of models
   * is compared over its layer grid, in sorted key order (workflows/modelPairs.ts); each model is
   * prepared once.
   */
  models: Record<string, SweepModelConfig>;
  /** Reference comparisons drawn as lines on the report (absent: none). */
  controls?: SweepControls;
  /** `described` (default) = the method as the paper describes it; `reference` = the original code. */
  compat: ScoreMode;
  pairing: {
    /** SAE activations to pair on: pre-activations (default) or codes. */
    encode: EncodeMode;
    method: PairingMethod;
    /** hungarian / ot / decoder: features per side in the pool (the most active ones by mean activation). */
    poolSize: number;
    /** ot: entropic regularisation of Sinkhorn, in correlation units. */
    epsilon: number;
    minCorrelation: number;
    /**
     * Fewest positions (activation > 0) a feature must fire at to have a label (`described`; the
     * reference rule labels every feature by its top-5 positions, zeros included).
     */
    minActivations: number;
  };
  similarity: {
    permutations: number;
    seed: number;
    /** Full-space metrics, each with its permutation null; in registry order (MEASURE_NAMES). */
    metrics: MeasureName[];
    /**
     * Which nulls the full-space scores are tested against: `rows` (permute paired decoder rows),
     * `selection` (re-pair with B's documents shifted against A's, pipelines/pair/documentShift.ts;
     * costs `selectionShifts` extra pairings). Always in this order. Optional: configs recorded
     * before it existed mean `["rows"]`.
     */
    null?: NullKind[];
    /**
     * Bootstrap resamples of the paired rows per layer pair, for the layer correspondence (each
     * layer of A, its best layer of B, with intervals). Absent: no correspondence.
     */
    bootstrap?: number;
    /** Document shifts s = 1..selectionShifts of the selection null (default 10; its p is parametric, see selectionNull.ts). */
    selectionShifts?: number;
  };
  /**
   * Cross-model retrieval per layer pair (pipelines/retrieval), opt-in (the section given; absent:
   * not run, and the config and its sweep id are what they were before it): maps fitted on a
   * training split of the kept pairs, held-out partners ranked among B's whole dictionary, against
   * shuffled training pairs.
   */
  retrieval?: {
    enabled: boolean;
    /** Fraction of the kept pairs the maps are fitted on. */
    trainFraction: number;
    /** Ridge strength relative to the mean eigenvalue of XᵀX. */
    ridge: number;
    /** Shuffles of the training pairs in the null. */
    shuffles: number;
    seed: number;
    maps: MapKind[];
  };
  /** Pairing stability per layer pair (pipelines/stability), opt-in like retrieval: pair each half of the corpus and compare. */
  stability?: {
    enabled: boolean;
    /** Relabellings in the independence null. */
    permutations: number;
    seed: number;
  };
  /** A categories JSON file ({"Category": ["keyword", …]}); undefined = the paper's built-ins. */
  categories?: string;
  /** Tokens per extraction chunk (the resume granularity). */
  chunkTokens: number;
  /** Points per side on a feature-map page. */
  maxMapPoints: number;
  /** Where results.parquet, report.html and maps/ are written (absolute after parsing). */
  outDir: string;
  orchestration: {
    /** Layer-pair workflows running at once. */
    concurrency: number;
    /** Layer pairs one workflow run starts before it continues as new (bounds history size). */
    pairsPerRun: number;
    /** Heartbeat timeout of long activities; a killed worker's activity is retried after this. */
    heartbeatTimeoutSeconds: number;
  };
  /** Fail (instead of warning) when an SAE fits its layer badly (FVU > 0.5) or hooks another tensor. */
  strict: boolean;
  /** The file the config was read from (for error messages); not part of the sweep's identity. */
  source?: string;
}

/**
 * Ceiling: a model against itself read through another SAE (another seed or width). Floor: the
 * model against a randomly initialised copy of itself (every float initializer re-drawn with its
 * shape, mean and sd, seeded), read through the model's own SAEs.
 */
export interface SweepControls {
  ceiling?: { model: string; sae: string | Record<string, string>; allowSharedSae?: boolean };
  floor?: { model: string; randomInit: { seed: number } };
}

const DEFAULTS = {
  textField: 'text',
  numSamples: 0,
  maxLength: 128,
  batchSize: 8,
  compat: 'described' as ScoreMode,
  encode: 'pre' as EncodeMode,
  method: 'greedy' as PairingMethod,
  poolSize: DEFAULT_POOL_SIZE,
  epsilon: 0.05,
  minCorrelation: 0.1,
  minActivations: DEFAULT_MIN_ACTIVATIONS,
  keepSpecialPositions: false,
  permutations: 1000,
  seed: 0,
  selectionShifts: 10,
  chunkTokens: 4096,
  maxMapPoints: 2000,
  concurrency: 4,
  pairsPerRun: 200,
  heartbeatTimeoutSeconds: 30,
};

type Json = Record<string, unknown>;

/** Reads fields of one JSON object, naming `<file>: <path>.<field>` in every error. */
class Fields {
  private readonly seen = new Set<string>();
  constructor(
    private readonly obj: Json,
    private readonly path: string,
    readonly file: string,
  ) {}

  static of(value: unknown, path: string, file: string): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(file, path || '(top level)', 'must be a JSON object');
    return new Fields(value as Json, path, file);
  }

  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.obj[key];
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  string(key: string, fallback?: string): string {
    const v = this.raw(key);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v.trim() === '') throw fail(this.file, this.at(key), v === undefined ? 'is required' : 'must be a non-empty string');
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : (this.raw(key), undefined);
  }

  int(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw fail(this.file, this.at(key), `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  number(key: string, fallback: number, min: number, max: number): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw fail(this.file, this.at(key), `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.optionalBoolean(key);
    return v ?? fallback;
  }

  optionalBoolean(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw fail(this.file, this.at(key), `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, options: readonly T[], fallback: T): T {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) {
      throw fail(this.file, this.at(key), `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  object(key: string, required: boolean): Fields {
    const v = this.raw(key);
    if (v === undefined && !required) return new Fields({}, this.at(key), this.file);
    if (v === undefined) throw fail(this.file, this.at(key), 'is required');
    return Fields.of(v, this.at(key), this.file);
  }

  /** Unknown keys are errors: a typo must not silently fall back to a default. */
  done(): void {
    for (const key of Object.keys(this.obj)) {
      if (!this.seen.has(key)) throw fail(this.file, this.at(key), `unknown field (known here: ${[...this.seen].sort().join(', ')})`);
    }
  }
}

function fail(file: string, path: string, problem: string): UserInputError {
  return new UserInputError(`${path}: ${problem}`, file);
}

function absolute(p: string, baseDir: string): string {
  return isAbsolute(p) ? resolve(p) : resolve(baseDir, p);
}

function parseLayers(f: Fields, key: string): number[] {
  const v = f.raw(key);
  const path = f.at(key);
  const file = f.file;
  if (!Array.isArray(v) || v.length === 0) throw fail(file, path, v === undefined ? 'is required (a list of layer indices)' : 'must be a non-empty list of layer indices');
  const seen = new Set<number>();
  v.forEach((layer, i) => {
    if (typeof layer !== 'number' || !Number.isInteger(layer) || layer < 0) throw fail(file, `${path}[${i}]`, `layer must be a non-negative integer, got ${JSON.stringify(layer)}`);
    if (seen.has(layer)) throw fail(file, `${path}[${i}]`, `layer ${layer} is listed twice`);
    seen.add(layer);
  });
  return [...seen].sort((x, y) => x - y);
}

/** A list of metric names: known to the similarity stage, no duplicates, svcca and rsa included; returned in registry order. */
function parseMaps(f: Fields, key: string): MapKind[] {
  const v = f.raw(key);
  const path = f.at(key);
  if (v === undefined) return [...MAP_KINDS];
  if (!Array.isArray(v) || v.length === 0) throw fail(f.file, path, `must be a non-empty list of maps (known: ${MAP_KINDS.join(', ')})`);
  v.forEach((name, i) => {
    if (typeof name !== 'string' || !(MAP_KINDS as readonly string[]).includes(name)) throw fail(f.file, `${path}[${i}]`, `unknown map ${JSON.stringify(name)} (known: ${MAP_KINDS.join(', ')})`);
  });
  return MAP_KINDS.filter((m) => v.includes(m));
}

function parseMetrics(f: Fields, key: string): MeasureName[] {
  const v = f.raw(key);
  const path = f.at(key);
  if (v === undefined) return [...DEFAULT_METRICS];
  if (!Array.isArray(v) || v.length === 0) throw fail(f.file, path, `must be a non-empty list of metric names (known: ${MEASURE_NAMES.join(', ')})`);
  const seen = new Set<string>();
  v.forEach((name, i) => {
    if (typeof name !== 'string' || !(MEASURE_NAMES as readonly string[]).includes(name)) {
      throw fail(f.file, `${path}[${i}]`, `unknown metric ${JSON.stringify(name)} (known: ${MEASURE_NAMES.join(', ')})`);
    }
    if (seen.has(name)) throw fail(f.file, `${path}[${i}]`, `metric "${name}" is listed twice`);
    seen.add(name);
  });
  const missing = REQUIRED_METRICS.filter((m) => !seen.has(m));
  if (missing.length > 0) {
    throw fail(f.file, path, `must include ${missing.map((m) => JSON.stringify(m)).join(' and ')} (the paper's scores, used by the report's heat-maps and the semantic subspaces)`);
  }
  return MEASURE_NAMES.filter((m) => seen.has(m));
}

/** The nulls a sweep can test full-space scores against (the results table's `null` column adds others). */
export const NULL_KINDS = ['rows', 'selection'] as const;
export type NullKind = (typeof NULL_KINDS)[number];

/** `"rows"`, `"selection"`, or a non-empty list of them without duplicates; returned in NULL_KINDS order. */
function parseNulls(f: Fields, key: string): NullKind[] {
  const v = f.raw(key);
  const path = f.at(key);
  if (v === undefined) return ['rows'];
  const list = Array.isArray(v) ? v : [v];
  const known = NULL_KINDS.map((k) => JSON.stringify(k)).join(', ');
  if (list.length === 0) throw fail(f.file, path, `must be ${known} or a non-empty list of them`);
  const seen = new Set<string>();
  list.forEach((name, i) => {
    const at = Array.isArray(v) ? `${path}[${i}]` : path;
    if (typeof name !== 'string' || !(NULL_KINDS as readonly string[]).includes(name)) throw fail(f.file, at, `unknown null ${JSON.stringify(name)} (known: ${known})`);
    if (seen.has(name)) throw fail(f.file, at, `null "${name}" is listed twice`);
    seen.add(name);
  });
  return NULL_KINDS.filter((k) => seen.has(k));
}

/**
 * `null` and `selectionShifts`, present only when the selection null is asked for: a config
 * without it parses (and hashes to a sweep id) exactly as before the fields existed.
 */
function selectionFields(s: Fields): Pick<SweepConfig['similarity'], 'null' | 'selectionShifts'> {
  const nulls = parseNulls(s, 'null');
  const shifts = s.int('selectionShifts', DEFAULTS.selectionShifts, 2, 10_000);
  if (!nulls.includes('selection')) {
    if (s.has('selectionShifts')) throw fail(s.file, s.at('selectionShifts'), 'is used only with "null": "selection" (or ["rows", "selection"])');
    return {};
  }
  return { null: nulls, selectionShifts: shifts };
}

/** `sae`: a path, or {"<layer>": path} naming an SAE for every listed layer and no other. */
function parseSae(f: Fields, layers: readonly number[], baseDir: string): SweepModelConfig['sae'] {
  const v = f.raw('sae');
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return absolute(f.string('sae'), baseDir);
  const map = Fields.of(v, f.at('sae'), f.file);
  const out: Record<string, string> = {};
  for (const layer of layers) {
    if (!map.has(String(layer))) throw fail(f.file, f.at('sae'), `maps no SAE for layer ${layer} (an explicit map names one SAE per listed layer)`);
    out[String(layer)] = absolute(map.string(String(layer)), baseDir);
  }
  map.done();
  return out;
}

function parseModel(f: Fields, baseDir: string): SweepModelConfig {
  const model = absolute(f.string('model'), baseDir);
  const layers = parseLayers(f, 'layers');
  const out: SweepModelConfig = {
    name: f.string('name', model.split(/[\\/]/).at(-1)!),
    model,
    tokenizer: absolute(f.string('tokenizer'), baseDir),
    sae: parseSae(f, layers, baseDir),
    layers,
    preset: f.oneOf('preset', PRESET_NAMES, 'gpt-neox'),
  };
  if (f.boolean('allowSharedSae', false)) out.allowSharedSae = true;
  const pattern = f.optionalString('pattern');
  if (pattern !== undefined) {
    if (!pattern.includes('{layer}')) throw fail(f.file, f.at('pattern'), `must contain {layer}, got ${JSON.stringify(pattern)}`);
    out.pattern = pattern;
  }
  const addSpecialTokens = f.optionalBoolean('addSpecialTokens');
  if (addSpecialTokens !== undefined) out.addSpecialTokens = addSpecialTokens;
  f.done();
  return out;
}

/** A model key: it names workflow ids and result rows, so plain characters only. */
const MODEL_KEY = /^[A-Za-z0-9_-]{1,32}$/;

/** `models`: two or more models by key (the two-model sweeps of before N models are keys `a` and `b`). */
function parseModels(top: Fields, baseDir: string): Record<string, SweepModelConfig> {
  const m = top.object('models', true);
  const raw = top.raw('models') as Json;
  const keys = Object.keys(raw);
  if (keys.length < 2) throw fail(m.file, 'models', `needs at least two models (got ${keys.length === 0 ? 'none' : `only ${JSON.stringify(keys[0])}`}), e.g. {"a": {…}, "b": {…}}`);
  const out: Record<string, SweepModelConfig> = {};
  for (const key of keys) {
    if (!MODEL_KEY.test(key)) throw fail(m.file, `models.${key}`, 'a model key must be 1–32 letters, digits, "_" or "-"');
    out[key] = parseModel(m.object(key, true), baseDir);
  }
  m.done();
  return out;
}

function controlModel(f: Fields, models: Record<string, SweepModelConfig>): string {
  const key = f.string('model');
  if (!(key in models)) throw fail(f.file, f.at('model'), `names no model of this sweep (models: ${Object.keys(models).join(', ')})`);
  return key;
}

/** `controls`: {"ceiling": {"model": key, "sae": …}, "floor": {"model": key, "randomInit": {"seed": n}}}. */
function parseControls(top: Fields, models: Record<string, SweepModelConfig>, baseDir: string): SweepControls | undefined {
  if (!top.has('controls')) return (top.raw('controls'), undefined);
  const c = top.object('controls', true);
  const out: SweepControls = {};
  if (c.has('ceiling')) {
    const f = c.object('ceiling', true);
    const model = controlModel(f, models);
    const sae = parseSae(f, models[model]!.layers, baseDir);
    const shared = f.boolean('allowSharedSae', false);
    f.done();
    if (sae === models[model]!.sae) throw fail(f.file, f.at('sae'), `is models.${model}'s own SAE: the ceiling compares the model with itself through another SAE (another seed or width)`);
    out.ceiling = { model, sae, ...(shared ? { allowSharedSae: true } : {}) };
  }
  if (c.has('floor')) {
    const f = c.object('floor', true);
    const model = controlModel(f, models);
    const r = f.object('randomInit', true);
    const seed = r.int('seed', 0, 0, 2 ** 31 - 1);
    r.done();
    f.done();
    out.floor = { model, randomInit: { seed } };
  }
  c.done();
  if (!out.ceiling && !out.floor) throw fail(c.file, 'controls', 'names neither "ceiling" nor "floor"');
  return out;
}

/**
 * Parses sweep.json (text or already-parsed JSON). Relative paths resolve against the folder of
 * `file`. Throws UserInputError `<file>: <json path>: <problem>` for the first bad field.
 */
export function parseSweepConfig(json: unknown, file: string): SweepConfig {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new UserInputError(`not valid JSON (${(e as Error).message.split('\n')[0]})`, file);
    }
  }
  const baseDir = dirname(resolve(file));
  const top = Fields.of(value, '', file);
  const version = top.int('version', SWEEP_CONFIG_VERSION, SWEEP_CONFIG_VERSION, SWEEP_CONFIG_VERSION) as typeof SWEEP_CONFIG_VERSION;
  const title = top.optionalString('title');

  const c = top.object('corpus', true);
  const corpus: SweepCorpusConfig = {
    path: absolute(c.string('path'), baseDir),
    textField: c.string('textField', DEFAULTS.textField),
    numSamples: c.int('numSamples', DEFAULTS.numSamples, 0),
    maxLength: c.int('maxLength', DEFAULTS.maxLength, 1, 1 << 20),
    batchSize: c.int('batchSize', DEFAULTS.batchSize, 1, 1 << 16),
    keepSpecialPositions: c.boolean('keepSpecialPositions', DEFAULTS.keepSpecialPositions),
  };
  c.done();

  const models = parseModels(top, baseDir);
  const controls = parseControls(top, models, baseDir);

  const compat = top.oneOf('compat', ['described', 'reference'] as const, DEFAULTS.compat);
  const p = top.object('pairing', false);
  const pairing = {
    encode: p.oneOf('encode', ['pre', 'post'] as const, DEFAULTS.encode),
    method: p.oneOf('method', PAIRING_METHODS, DEFAULTS.method),
    poolSize: p.int('poolSize', DEFAULTS.poolSize, 2, 100_000),
    epsilon: p.number('epsilon', DEFAULTS.epsilon, 1e-6, 100),
    minCorrelation: p.number('minCorrelation', DEFAULTS.minCorrelation, -1, 1),
    minActivations: p.int('minActivations', DEFAULTS.minActivations, 1, MAX_MIN_ACTIVATIONS),
  };
  p.done();

  const s = top.object('similarity', false);
  const similarity = {
    permutations: s.int('permutations', DEFAULTS.permutations, 1, 1_000_000),
    seed: s.int('seed', DEFAULTS.seed, 0),
    metrics: parseMetrics(s, 'metrics'),
    ...selectionFields(s),
    ...(s.has('bootstrap') ? { bootstrap: s.int('bootstrap', 0, 20, 100_000) } : (s.raw('bootstrap'), {})),
  };
  s.done();

  let retrieval: SweepConfig['retrieval'] | undefined;
  if (top.has('retrieval')) {
    const r = top.object('retrieval', false);
    retrieval = {
      enabled: r.boolean('enabled', true),
      trainFraction: r.number('trainFraction', 0.5, 0.05, 0.95),
      ridge: r.number('ridge', 0.01, 0, 1e6),
      shuffles: r.int('shuffles', 100, 1, 100_000),
      seed: r.int('seed', 0, 0),
      maps: parseMaps(r, 'maps'),
    };
    r.done();
  }

  let stability: SweepConfig['stability'] | undefined;
  if (top.has('stability')) {
    const st = top.object('stability', false);
    stability = {
      enabled: st.boolean('enabled', true),
      permutations: st.int('permutations', 1000, 1, 1_000_000),
      seed: st.int('seed', 0, 0),
    };
    st.done();
  }

  const categoriesPath = top.optionalString('categories');
  const chunkTokens = top.int('chunkTokens', DEFAULTS.chunkTokens, 1);
  const maxMapPoints = top.int('maxMapPoints', DEFAULTS.maxMapPoints, 2);
  const outDir = absolute(top.string('outDir', 'ufg-out'), baseDir);
  const strict = top.boolean('strict', false);

  const o = top.object('orchestration', false);
  const orchestration = {
    concurrency: o.int('concurrency', DEFAULTS.concurrency, 1, 1000),
    pairsPerRun: o.int('pairsPerRun', DEFAULTS.pairsPerRun, 1, 1000),
    heartbeatTimeoutSeconds: o.int('heartbeatTimeoutSeconds', DEFAULTS.heartbeatTimeoutSeconds, 1, 3600),
  };
  o.done();
  top.done();

  return {
    version,
    ...(title !== undefined ? { title } : {}),
    corpus,
    models,
    ...(controls !== undefined ? { controls } : {}),
    compat,
    pairing,
    similarity,
    ...(retrieval ? { retrieval } : {}),
    ...(stability ? { stability } : {}),
    ...(categoriesPath !== undefined ? { categories: absolute(categoriesPath, baseDir) } : {}),
    chunkTokens,
    maxMapPoints,
    outDir,
    orchestration,
    strict,
    source: resolve(file),
  };
}

/** `ufg-sweep-<16 hex>`: a hash of the normalised config (without `source`), the workflow id. */
export function sweepIdOf(config: SweepConfig): string {
  const { source: _source, ...identity } = config;
  return `ufg-sweep-${sha256Bytes(canonicalJson(identity)).slice(0, 16)}`;
}

/**
 * The demo sweep over the generated fixtures (test/fixtures/generate.ts + saes.ts, SAEs written to
 * `<fixturesDir>/saes`): tiny model A (2 blocks, d=64) vs B (3 blocks, d=96), 2 × 2 layer pairs.
 */
export function demoConfig(fixturesDir: string, outDir: string): SweepConfig {
  const json = {
    title: 'ufg demo: tiny model A vs tiny model B (generated fixtures)',
    corpus: { path: join(fixturesDir, 'corpus.txt'), numSamples: 96, maxLength: 32, batchSize: 8 },
    models: {
      a: { name: 'fixture-a (d=64)', model: join(fixturesDir, 'model-a.onnx'), tokenizer: join(fixturesDir, 'tokenizer.json'), sae: join(fixturesDir, 'saes', 'f32', 'modelA-sparsify'), layers: [1, 2] },
      b: { name: 'fixture-b (d=96)', model: join(fixturesDir, 'model-b.onnx'), tokenizer: join(fixturesDir, 'tokenizer.json'), sae: join(fixturesDir, 'saes', 'f32', 'modelB-saelens'), layers: [1, 2] },
    },
    similarity: { permutations: 200, seed: 0 },
    chunkTokens: 256,
    maxMapPoints: 200,
    outDir: resolve(outDir),
  };
  return parseSweepConfig(json, join(fixturesDir, 'demo-sweep.json'));
}

/**
 * The three-model demo (README): fixture A (d=64), B (d=96) and C (A's sizes in Llama naming, its
 * own weights, read through A's SAEs), every pair compared, plus both controls on A: the ceiling
 * reads A through its Gemma Scope–layout SAEs (other seeds), the floor is A re-initialised.
 */
export function demoThreeModelConfig(fixturesDir: string, outDir: string): SweepConfig {
  const saes = join(fixturesDir, 'saes', 'f32');
  const json = {
    title: 'ufg demo: three fixture models, with ceiling and floor controls',
    corpus: { path: join(fixturesDir, 'corpus.txt'), numSamples: 96, maxLength: 32, batchSize: 8 },
    models: {
      a: { name: 'fixture-a (d=64)', model: join(fixturesDir, 'model-a.onnx'), tokenizer: join(fixturesDir, 'tokenizer.json'), sae: join(saes, 'modelA-sparsify'), layers: [1] },
      b: { name: 'fixture-b (d=96)', model: join(fixturesDir, 'model-b.onnx'), tokenizer: join(fixturesDir, 'tokenizer.json'), sae: join(saes, 'modelB-saelens'), layers: [1, 2] },
      c: { name: 'fixture-c (llama, d=64)', model: join(fixturesDir, 'model-llama.onnx'), tokenizer: join(fixturesDir, 'tokenizer.json'), sae: join(saes, 'modelA-sparsify'), layers: [1], preset: 'llama' },
    },
    controls: { ceiling: { model: 'a', sae: join(saes, 'modelA-gemmascope') }, floor: { model: 'a', randomInit: { seed: 0 } } },
    similarity: { permutations: 100, seed: 0 },
    chunkTokens: 256,
    maxMapPoints: 200,
    outDir: resolve(outDir),
  };
  return parseSweepConfig(json, join(fixturesDir, 'demo-three-models.json'));
}
