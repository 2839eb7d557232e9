// The manifest is the artifact: it is written last, names every file with its size and sha256,
// and records where the artifact came from. Without a valid manifest the artifact does not exist.
import type { JsonValue } from './artifactId.ts';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 1;

export interface FileEntry {
  /** Path relative to the artifact root, '/'-separated. */
  name: string;
  size: number;
  sha256: string;
}

/** Who produced an artifact; filled from the Temporal activity context when there is one. */
export interface Producer {
  workflowId?: string;
  runId?: string;
  activity?: string;
  attempt?: number;
  host?: string;
  pid?: number;
  /** The store attempt (lease holder and staging folder) that wrote the files. */
  token?: string;
}

/** One lease holder's attempt at the artifact: several when a crashed or failed attempt was resumed. */
export interface AttemptRecord {
  startedAt: string;
  producer: Producer;
  /** Files carried over from the earlier attempt when this one began (the chunks it resumed from). */
  carriedFiles: number;
}

/** An external file (corpus, model, tokenizer, SAE) as it was when registered. */
export interface SourceInfo {
  path: string;
  kind?: string;
  /** For a directory source, its files relative to `path`; for a file source, one entry with name ''. */
  files: FileEntry[];
}

/** How far an earlier attempt had got when this one took over: `done` of `total` `unit`s. */
export interface ResumePoint {
  unit: string;
  done: number;
  total: number;
}

export interface Manifest {
  format: number;
  id: string;
  stage: string;
  codeVersion: string;
  params: JsonValue;
  inputs: string[];
  files: FileEntry[];
  producer: Producer;
  startedAt: string;
  finishedAt: string;
  counts: Record<string, number>;
  resumedFromChunk?: number;
  /** Where a retried attempt's long computation continued from (e.g. block pairs of a pairing). */
  resumedFrom?: ResumePoint;
  attempts?: AttemptRecord[];
  source?: SourceInfo;
  /** Small stage-specific facts worth showing in lineage (e.g. layer, dims). */
  summary?: { [key: string]: JsonValue };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFileEntry(v: unknown): v is FileEntry {
  return (
    isObject(v) &&
    typeof v.name === 'string' &&
    typeof v.size === 'number' &&
    typeof v.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(v.sha256)
  );
}

/** Returns the problem with a parsed manifest, or undefined when it is complete for `id`. */
export function manifestProblem(value: unknown, id: string): string | undefined {
  if (!isObject(value)) return 'manifest is not a JSON object';
  if (value.format !== MANIFEST_FORMAT) return `unknown manifest format ${String(value.format)}`;
  if (value.id !== id) return `manifest names id '${String(value.id)}', expected '${id}'`;
  if (typeof value.stage !== 'string' || typeof value.codeVersion !== 'string') return 'manifest lacks stage or codeVersion';
  if (!Array.isArray(value.inputs) || !value.inputs.every((i) => typeof i === 'string')) return 'manifest inputs are not a list of ids';
  if (!Array.isArray(value.files) || !value.files.every(isFileEntry)) return 'manifest files are malformed';
  if (typeof value.finishedAt !== 'string') return 'manifest lacks finishedAt';
  if (value.source !== undefined) {
    const s = value.source;
    if (!isObject(s) || typeof s.path !== 'string' || !Array.isArray(s.files) || !s.files.every(isFileEntry)) {
      return 'manifest source record is malformed';
    }
  }
  return undefined;
}

export function parseManifest(text: string, id: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`manifest of ${id} is not valid JSON: ${(e as Error).message}`);
  }
  const problem = manifestProblem(value, id);
  if (problem) throw new Error(`manifest of ${id}: ${problem}`);
  return value as Manifest;
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

/**
 * Artifact file names are relative, '/'-separated, and no segment starts with '.', which keeps
 * temp files and bookkeeping out of manifests and rules out '..' escapes.
 */
export function checkFileName(name: string): void {
  if (!FILE_NAME.test(name) || name === MANIFEST_NAME) throw new TypeError(`bad artifact file name '${name}'`);
}
