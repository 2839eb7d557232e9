// External inputs (corpus, model, tokenizer, SAE files) enter the store as `source` artifacts
// that record path, size and sha256 but hold no copy. Their id depends on content only, so the
// same unchanged file registered twice (or from another directory) gives the same id, and every
// downstream id changes when the file's bytes do.
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { sha256Bytes, sha256File, writeJsonAtomic } from './atomic.ts';
import { artifactId, codeVersionFor, type ArtifactSpec } from './artifactId.ts';
import type { FileEntry, Manifest, Producer } from './manifest.ts';
import type { ArtifactStore } from './store.ts';
import { UserInputError } from '../pipelines/errors.ts';

interface CachedHash {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * sha256 of a local file, cached by (real path, size, mtime): hashing a multi-GB model on every
 * run would dominate a resume. One small cache file per key, so concurrent writers never clash.
 */
export async function cachedFileHash(path: string, cacheDir: string): Promise<FileEntry> {
  const real = await realpath(path);
  const s = await stat(real);
  const key = sha256Bytes(`${real}\0${s.size}\0${s.mtimeMs}`);
  const cacheFile = join(cacheDir, 'hashes', `${key}.json`);
  try {
    const c = JSON.parse(await readFile(cacheFile, 'utf8')) as CachedHash;
    if (c.path === real && c.size === s.size && c.mtimeMs === s.mtimeMs && /^[0-9a-f]{64}$/.test(c.sha256)) {
      return { name: '', size: s.size, sha256: c.sha256 };
    }
  } catch {
    // no usable cache entry: hash below
  }
  const sha256 = await sha256File(real);
  const after = await stat(real);
  // A file that changed while being hashed must not be cached under either state.
  if (after.size === s.size && after.mtimeMs === s.mtimeMs) {
    const entry: CachedHash = { path: real, size: s.size, mtimeMs: s.mtimeMs, sha256 };
    await writeJsonAtomic(cacheFile, entry);
  }
  return { name: '', size: s.size, sha256 };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const rel = relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/');
    if (!rel.split('/').some((seg) => seg.startsWith('.'))) out.push(rel);
  }
  return out.sort();
}

/** Content digest of a file (one entry, name '') or of a directory (its files, sorted). */
export async function hashSourcePath(path: string, cacheDir: string): Promise<FileEntry[]> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    // Only a path that is not there is bad input; EIO, ESTALE, a timeout (an NFS hiccup) are
    // infrastructure, left retryable.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserInputError('no such file or directory', path);
    throw e;
  }
  if (s.isFile()) return [await cachedFileHash(path, cacheDir)];
  if (!s.isDirectory()) throw new UserInputError('not a regular file or directory', path);
  const names = await filesUnder(path);
  if (names.length === 0) throw new UserInputError('directory holds no files', path);
  const out: FileEntry[] = [];
  for (const name of names) out.push({ ...(await cachedFileHash(join(path, name), cacheDir)), name });
  return out;
}

export function sourceSpec(files: readonly FileEntry[]): ArtifactSpec {
  return {
    stage: 'source',
    codeVersion: codeVersionFor('source'),
    params: { files: files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })) },
    inputs: [],
  };
}

/**
 * How a source's files differ from what was registered (file names relative to the source; '' is
 * a single-file source): e.g. `sae.safetensors: sha256 1f3a9c0b2d4e… → 77c0…, size 4096 → 4096`.
 */
export function sourceChanges(registered: readonly FileEntry[], now: readonly FileEntry[]): string[] {
  const label = (name: string) => name || 'content';
  const short = (h: string) => `${h.slice(0, 12)}…`;
  const before = new Map(registered.map((f) => [f.name, f]));
  const after = new Map(now.map((f) => [f.name, f]));
  const out: string[] = [];
  for (const [name, f] of before) {
    const g = after.get(name);
    if (!g) out.push(`${label(name)}: missing`);
    else if (g.sha256 !== f.sha256 || g.size !== f.size) out.push(`${label(name)}: sha256 ${short(f.sha256)} → ${short(g.sha256)}, size ${f.size} → ${g.size}`);
  }
  for (const name of after.keys()) if (!before.has(name)) out.push(`${label(name)}: new file`);
  return out;
}

export interface RegisterSourceOptions {
  /** What the file is (corpus, model, tokenizer, sae), shown by lineage. */
  kind?: string;
  producer?: Producer;
  /** Cancels waiting while another process registers the same content. */
  signal?: AbortSignal;
}

/** Registers a file or directory as a source artifact and returns its manifest. */
export async function registerSource(store: ArtifactStore, path: string, options: RegisterSourceOptions = {}): Promise<Manifest> {
  const files = await hashSourcePath(path, store.cacheDir);
  const spec = sourceSpec(files);
  const id = artifactId(spec);
  const existing = await store.manifest(id);
  if (existing) return existing;
  const begun = await store.begin(id, { producer: options.producer, signal: options.signal });
  if (begun.published) return begun.published;
  return begun.writer.commit({
    ...spec,
    producer: options.producer,
    counts: { files: files.length, bytes: files.reduce((a, f) => a + f.size, 0) },
    source: { path: await realpath(path), ...(options.kind ? { kind: options.kind } : {}), files },
  });
}
