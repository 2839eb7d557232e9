// The artifact store. `ArtifactStore` speaks in ids and file names only, so an S3-compatible
// backend can implement it later; `LocalDirStore` is the default, a directory laid out as
//   <root>/<id>/manifest.json + files      committed artifacts (immutable)
//   <root>/.staging/<id>/                  work in progress; survives restarts so chunks resume
//   <root>/.staging/<id>.commit-<token>/   a staging area claimed by one committing writer
//   <root>/.cache/                         local bookkeeping (source-file hash cache)
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fsyncDir, sha256Bytes, sha256File, writeFileAtomic, writeJsonAtomic } from './atomic.ts';
import { artifactId, isArtifactId, normalizeJson, type ArtifactSpec, type JsonValue } from './artifactId.ts';
import {
  checkFileName,
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  manifestProblem,
  parseManifest,
  type AttemptRecord,
  type FileEntry,
  type Manifest,
  type Producer,
  type SourceInfo,
} from './manifest.ts';

/** What the producing stage tells `commit` besides the files. */
export interface CommitInfo extends ArtifactSpec {
  producer?: Producer;
  counts?: Record<string, number>;
  resumedFromChunk?: number;
  source?: SourceInfo;
  summary?: { [key: string]: JsonValue };
}

export interface BeginOptions {
  producer?: Producer;
}

/** One writer's handle on an artifact being produced. File names are artifact-relative. */
export interface ArtifactWriter {
  readonly id: string;
  /** Files already present (from this or an earlier, crashed attempt): the resume point. */
  listFiles(): Promise<string[]>;
  hasFile(name: string): Promise<boolean>;
  readFile(name: string): Promise<Uint8Array>;
  /** Atomic: the file is either absent or complete, even if the process dies mid-write. */
  writeFile(name: string, data: Uint8Array | string): Promise<void>;
  writeJson(name: string, value: unknown): Promise<void>;
  /**
   * For writers that need a real path (Arrow/Parquet/ONNX streaming writers): `produce` writes to
   * the temp path it is given; the file appears under `name` only once `produce` resolves.
   */
  writeWithPath(name: string, produce: (tempPath: string) => Promise<void>): Promise<void>;
  /**
   * Hashes every file, writes the manifest last, and publishes the artifact. When another writer
   * published the same id first, this writer's staging is discarded and the existing manifest
   * returned: both callers end up with the same complete artifact.
   */
  commit(info: CommitInfo): Promise<Manifest>;
  /** Drops the staging area, chunks included. */
  abandon(): Promise<void>;
}

export interface FileDigest {
  size: number;
  sha256: string;
}

export interface ArtifactStore {
  /** Human-readable location, e.g. a directory or a bucket URL. */
  readonly location: string;
  has(id: string): Promise<boolean>;
  /** The manifest of a complete artifact, or undefined when there is none. */
  manifest(id: string): Promise<Manifest | undefined>;
  /** Ids of every artifact directory (complete or not: verify reports the broken ones). */
  list(): Promise<string[]>;
  readFile(id: string, name: string): Promise<Uint8Array>;
  /** A local filesystem path to a committed file (ONNX Runtime and mmap-style readers need one). */
  localPath(id: string, name: string): Promise<string>;
  /** Re-reads a committed file and hashes it; undefined when the file is missing. */
  digest(id: string, name: string): Promise<FileDigest | undefined>;
  /** Why an artifact's manifest is unusable, or undefined when it is fine or absent. */
  manifestProblem(id: string): Promise<string | undefined>;
  begin(id: string, options?: BeginOptions): Promise<ArtifactWriter>;
  abandon(id: string): Promise<void>;
  /** A directory for local caches (e.g. source-file hashes), private to this machine. */
  readonly cacheDir: string;
}

/** A plain Uint8Array view (not a Buffer), so callers compare and slice it like any typed array. */
function plainBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function checkId(id: string): void {
  if (!isArtifactId(id)) throw new TypeError(`bad artifact id '${id}'`);
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

function isTargetOccupied(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM' || code === 'EISDIR';
}

export function defaultProducer(): Producer {
  return { host: hostname(), pid: process.pid };
}

async function listFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(dir, sub), { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // temp files and bookkeeping
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile() && rel !== MANIFEST_NAME) out.push(rel);
    }
  }
  await walk('');
  return out.sort();
}

/** Removes temp files that writers killed mid-write left behind, so they are not published. */
async function removeStrayTempFiles(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /^\..*\.tmp-/.test(entry.name)) await rm(join(entry.parentPath, entry.name), { force: true });
  }
}

const ATTEMPTS_FILE = '.attempts.json';

const COMMIT_WAIT_MS = 120_000;

/** A claim this old is abandoned even when its owner's liveness cannot be checked (other host). */
const STALE_CLAIM_MS = 3_600_000;

/** The host name as it appears in claim directory names (no path or separator characters). */
function claimHost(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalDirStore implements ArtifactStore {
  readonly root: string;
  readonly location: string;
  readonly cacheDir: string;

  /** How long a writer that lost the commit race waits for the winner to publish. */
  readonly commitWaitMs: number;

  constructor(root: string, options: { commitWaitMs?: number } = {}) {
    this.commitWaitMs = options.commitWaitMs ?? COMMIT_WAIT_MS;
    this.root = resolve(root);
    this.location = this.root;
    this.cacheDir = join(this.root, '.cache');
  }

  artifactDir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  stagingDir(id: string): string {
    checkId(id);
    return join(this.root, '.staging', id);
  }

  async manifest(id: string): Promise<Manifest | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.artifactDir(id), MANIFEST_NAME), 'utf8');
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
    try {
      return parseManifest(text, id);
    } catch {
      return undefined;
    }
  }

  async manifestProblem(id: string): Promise<string | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.artifactDir(id), MANIFEST_NAME), 'utf8');
    } catch (e) {
      if (isMissing(e)) return existsSync(this.artifactDir(id)) ? 'manifest.json is missing' : undefined;
      throw e;
    }
    try {
      return manifestProblem(JSON.parse(text), id);
    } catch (e) {
      return `manifest.json is not valid JSON: ${(e as Error).message}`;
    }
  }

  /** Complete = a valid manifest whose files are all present at their recorded sizes. */
  async has(id: string): Promise<boolean> {
    const m = await this.manifest(id);
    if (!m) return false;
    for (const f of m.files) {
      try {
        if ((await stat(join(this.artifactDir(id), f.name))).size !== f.size) return false;
      } catch (e) {
        if (isMissing(e)) return false;
        throw e;
      }
    }
    return true;
  }

  async list(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
    return entries.filter((e) => e.isDirectory() && isArtifactId(e.name)).map((e) => e.name).sort();
  }

  async readFile(id: string, name: string): Promise<Uint8Array> {
    checkFileName(name);
    return plainBytes(await readFile(join(this.artifactDir(id), name)));
  }

  async localPath(id: string, name: string): Promise<string> {
    checkFileName(name);
    return join(this.artifactDir(id), name);
  }

  async digest(id: string, name: string): Promise<FileDigest | undefined> {
    checkFileName(name);
    const path = join(this.artifactDir(id), name);
    try {
      const size = (await stat(path)).size;
      return { size, sha256: await sha256File(path) };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async begin(id: string, options: BeginOptions = {}): Promise<ArtifactWriter> {
    const dir = this.stagingDir(id);
    if (!existsSync(dir)) await this.adoptStaleClaim(id);
    await mkdir(dir, { recursive: true });
    const attemptsPath = join(dir, ATTEMPTS_FILE);
    const attempts = await readAttempts(attemptsPath);
    attempts.push({
      startedAt: new Date().toISOString(),
      producer: { ...defaultProducer(), ...options.producer },
      carriedFiles: (await listFilesUnder(dir)).length,
    });
    await writeJsonAtomic(attemptsPath, attempts);
    return new LocalWriter(this, id, dir, await listFilesUnder(dir));
  }

  /**
   * A writer that died mid-commit leaves its claimed staging area behind, chunks and all. Take it
   * back as the staging area when its owner is provably gone (same host, dead pid) or the claim is
   * older than any commit could take.
   */
  private async adoptStaleClaim(id: string): Promise<void> {
    const stagingRoot = join(this.root, '.staging');
    let names: string[];
    try {
      names = await readdir(stagingRoot);
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    const prefix = `${id}.commit-`;
    for (const name of names.filter((n) => n.startsWith(prefix)).sort()) {
      const [host, pidText] = name.slice(prefix.length).split('~');
      const path = join(stagingRoot, name);
      let age: number;
      try {
        age = Date.now() - (await stat(path)).mtimeMs;
      } catch {
        continue;
      }
      const deadHere = host === claimHost() && !processAlive(Number(pidText));
      if (!deadHere && age < STALE_CLAIM_MS) continue;
      try {
        await rename(path, this.stagingDir(id));
        await rm(join(this.stagingDir(id), MANIFEST_NAME), { force: true });
        return;
      } catch {
        // another process adopted it first, or a staging area appeared meanwhile
      }
    }
  }

  async abandon(id: string): Promise<void> {
    await rm(this.stagingDir(id), { recursive: true, force: true });
  }

  /** Polls until a concurrent writer publishes `id`; false after `timeoutMs`. */
  async waitFor(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
      if (await this.has(id)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function readAttempts(path: string): Promise<AttemptRecord[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return Array.isArray(parsed) ? (parsed as AttemptRecord[]) : [];
  } catch (e) {
    if (isMissing(e) || e instanceof SyntaxError) return [];
    throw e;
  }
}

class LocalWriter implements ArtifactWriter {
  /** Hashes computed while writing, reused at commit when the file is unchanged since. */
  private readonly known = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

  /**
   * Every file this writer saw at begin or wrote since. If any is missing from the staging area it
   * claims at commit, another writer took the area away (and its files with it) in between.
   */
  private readonly own: Set<string>;

  constructor(
    private readonly store: LocalDirStore,
    readonly id: string,
    private readonly dir: string,
    carried: readonly string[],
  ) {
    this.own = new Set(carried);
  }

  listFiles(): Promise<string[]> {
    return listFilesUnder(this.dir);
  }

  async hasFile(name: string): Promise<boolean> {
    checkFileName(name);
    return existsSync(join(this.dir, name));
  }

  async readFile(name: string): Promise<Uint8Array> {
    checkFileName(name);
    return plainBytes(await readFile(join(this.dir, name)));
  }

  async writeFile(name: string, data: Uint8Array | string): Promise<void> {
    checkFileName(name);
    const path = join(this.dir, name);
    await writeFileAtomic(path, data);
    const s = await stat(path);
    this.known.set(name, { size: s.size, mtimeMs: s.mtimeMs, sha256: sha256Bytes(data) });
    this.own.add(name);
  }

  writeJson(name: string, value: unknown): Promise<void> {
    return this.writeFile(name, JSON.stringify(value, null, 2) + '\n');
  }

  async writeWithPath(name: string, produce: (tempPath: string) => Promise<void>): Promise<void> {
    checkFileName(name);
    const path = join(this.dir, name);
    const slash = name.lastIndexOf('/');
    const parent = slash < 0 ? this.dir : join(this.dir, name.slice(0, slash));
    await mkdir(parent, { recursive: true });
    const tmp = join(parent, `.${name.slice(slash + 1)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await produce(tmp);
      // The producer may have closed its own handle without fsync; make the bytes durable.
      const h = await open(tmp, 'r+');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(tmp, path);
      this.own.add(name);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await fsyncDir(parent);
  }

  private async entryFor(dir: string, name: string): Promise<FileEntry> {
    const path = join(dir, name);
    const s = await stat(path);
    const k = this.known.get(name);
    const sha256 = k && k.size === s.size && k.mtimeMs === s.mtimeMs ? k.sha256 : await sha256File(path);
    return { name, size: s.size, sha256 };
  }

  async commit(info: CommitInfo): Promise<Manifest> {
    const expected = artifactId(info);
    if (expected !== this.id) {
      throw new Error(`commit of ${this.id} with a spec whose id is ${expected}: stage, params or inputs changed`);
    }
    const existing = await this.store.manifest(this.id);
    if (existing && (await this.store.has(this.id))) {
      await this.abandon();
      return existing;
    }

    // Claim the staging area under a private name: of two writers committing at once, exactly
    // one rename succeeds, and nobody else can add or remove files while it is being hashed.
    const claimed = `${this.dir}.commit-${claimHost()}~${process.pid}~${randomBytes(6).toString('hex')}`;
    const mustHave = [...new Set([...this.own, ...(await listFilesUnder(this.dir))])];
    try {
      await rename(this.dir, claimed);
    } catch (e) {
      if (!isMissing(e)) throw e;
      return this.awaitWinner();
    }
    const present = new Set(await listFilesUnder(claimed));
    if (!mustHave.every((f) => present.has(f))) {
      // Another writer claimed the area after some of our files landed in it; what we hold is a
      // fresh, partial staging area. Let the winner publish.
      await rm(claimed, { recursive: true, force: true });
      return this.awaitWinner();
    }

    await removeStrayTempFiles(claimed);
    const attempts = await readAttempts(join(claimed, ATTEMPTS_FILE));
    const files: FileEntry[] = [];
    for (const name of [...present].sort()) files.push(await this.entryFor(claimed, name));
    const last = attempts.at(-1);
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id: this.id,
      stage: info.stage,
      codeVersion: info.codeVersion,
      params: normalizeJson(info.params ?? null),
      inputs: [...info.inputs],
      files,
      producer: { ...defaultProducer(), ...last?.producer, ...info.producer },
      startedAt: attempts[0]?.startedAt ?? new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      counts: { ...info.counts },
      ...(info.resumedFromChunk !== undefined ? { resumedFromChunk: info.resumedFromChunk } : {}),
      ...(attempts.length > 1 ? { attempts } : {}),
      ...(info.source ? { source: info.source } : {}),
      ...(info.summary ? { summary: info.summary } : {}),
    };
    await writeJsonAtomic(join(claimed, MANIFEST_NAME), manifest);
    await rm(join(claimed, ATTEMPTS_FILE), { force: true });

    const target = this.store.artifactDir(this.id);
    try {
      await rename(claimed, target);
    } catch (e) {
      await rm(claimed, { recursive: true, force: true });
      if (!isTargetOccupied(e)) throw e;
      const winner = await this.store.manifest(this.id);
      if (winner) return winner;
      throw new Error(`${target} exists but holds no valid manifest; run 'ufg verify' and remove it`);
    }
    await fsyncDir(this.store.root);
    return manifest;
  }

  private async awaitWinner(): Promise<Manifest> {
    if (await this.store.waitFor(this.id, this.store.commitWaitMs)) return (await this.store.manifest(this.id))!;
    throw new Error(`another writer claimed ${this.id} for commit but did not publish it`);
  }

  abandon(): Promise<void> {
    return this.store.abandon(this.id);
  }
}

export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.UFG_HOME ? join(env.UFG_HOME, 'store') : join(cwd, '.ufg', 'store');
}

/** The store the CLI and workers use: `--store` when given, else the default root. */
export function openStore(root?: string): ArtifactStore & { root: string } {
  return new LocalDirStore(root ?? defaultStoreRoot());
}
