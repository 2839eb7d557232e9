// Content addresses for artifacts. The id is a pure function of what produced the artifact
// (stage, code version, parameters, input ids), so any process on any machine that is about to
// compute the same thing derives the same id and finds the finished artifact instead.
import { readFileSync } from 'node:fs';
import { sha256Bytes } from './atomic.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ArtifactSpec {
  stage: string;
  codeVersion: string;
  params: unknown;
  /** Ids of input artifacts. Order is meaningful (model A vs model B), so it is kept. */
  inputs: readonly string[];
}

const packageVersion: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Bump a stage's number when its output changes for the same inputs (a fix, a new column):
 * only that stage's artifacts, and those downstream of them via their input ids, get new ids.
 */
export const STAGE_VERSIONS: Readonly<Record<string, number>> = {
  source: 1,
  tokenize: 2,
  extract: 2,
  sae: 2,
  pair: 2,
  // 2: scores carry effect and saturation, observed through the null's route; subspaces skip
  // saturated and too-coarse scores; results gain effect, q, saturated; the report shows them.
  similarity: 2,
  subspace: 2,
  // 3: results gain model_a, model_b, control and null (N models in one sweep), and rows for
  // retrieval and stability; the report shows those rows.
  results: 3,
  report: 3,
  'random-init': 1,
  retrieval: 1,
  stability: 1,
  umap: 2,
};

/** The package version alone; per-stage versions come from codeVersionFor. */
export const CODE_VERSION = packageVersion;

export function codeVersionFor(stage: string): string {
  return `${packageVersion}+${stage}.${STAGE_VERSIONS[stage] ?? 1}`;
}

const STAGE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Normalises a parameter value to plain JSON: object keys sorted recursively, -0 as 0, dates as
 * ISO strings, undefined object members dropped. Throws on values that have no stable text form
 * (NaN, Infinity, functions, symbols, bigint, typed arrays) rather than hashing something lossy.
 */
export function normalizeJson(value: unknown, where = 'params'): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${where}: non-finite number ${value} cannot be hashed`);
      return Object.is(value, -0) ? 0 : value;
    case 'object':
      break;
    default:
      throw new TypeError(`${where}: ${typeof value} cannot be hashed`);
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v, i) => (v === undefined ? null : normalizeJson(v, `${where}[${i}]`)));
  if (ArrayBuffer.isView(value)) throw new TypeError(`${where}: binary data does not belong in params; store it as a file`);
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value as object).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = normalizeJson(v, `${where}.${key}`);
  }
  return out;
}

/** JSON text with sorted keys and no whitespace: equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalizeJson(value));
}

export function artifactId(spec: ArtifactSpec): string {
  if (!STAGE_NAME.test(spec.stage)) throw new TypeError(`bad stage name '${spec.stage}'`);
  for (const input of spec.inputs) {
    if (!isArtifactId(input)) throw new TypeError(`bad input artifact id '${input}'`);
  }
  const text = canonicalJson({
    stage: spec.stage,
    codeVersion: spec.codeVersion,
    params: spec.params ?? null,
    inputs: [...spec.inputs],
  });
  return `${spec.stage}-${sha256Bytes(text).slice(0, 16)}`;
}

const ID_PATTERN = /^[a-z][a-z0-9-]{0,39}-[0-9a-f]{16}$/;

/** Also the guard against path tricks: an id is always a single safe path segment. */
export function isArtifactId(s: string): boolean {
  return ID_PATTERN.test(s);
}

export function stageOfId(id: string): string {
  return id.slice(0, id.lastIndexOf('-'));
}
