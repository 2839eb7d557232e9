// The artifact store. `ArtifactStore` speaks in ids and file names only, so an S3-compatible
// backend can implement it later; `LocalDirStore` is the default, a directory laid out as
//   <root>/<id>/manifest.json + files        committed artifacts (immutable)
//   <root>/.staging/<id>/lease-<n>.json      the lease electing the one attempt producing <id>
//   <root>/.staging/<id>/<token>/            one attempt's files in progress (they survive
//                                            restarts, and the next lease holder resumes from them)
//   <root>/.staging/<id>/<token>.*           that attempt's record and file digests (attempt.ts)
//   <root>/.cache/                           local bookkeeping (source-file hash cache)
// See storage/README.md for the protocol: who may write, take over, publish and delete what.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fsyncDir, sha256Bytes, sha256File, writeFileAtomic } from './atomic.ts';
import { artifactId, isArtifactId, normalizeJson, type ArtifactSpec, type JsonValue } from './artifactId.ts';
import {
  attemptState,
  carryFiles,
  closeAttempt,
  createAttempt,
  ledgerPath,
  listAttempts,
  newToken,
  recordFile,
  removeAttempt,
  type AttemptInfo,
  type FileRecord,
  type StagedAttempt,
  ATTEMPT_FORMAT,
} from './attempt.ts';
import { asStoreFull, formatBytes } from './diskFull.ts';
import { isMissing, listFilesUnder, removeStrayTempFiles } from './dirFiles.ts';
import { leaseAgeMs, leaseStatus, observeLease, tryAcquireLease, type Lease, type LeaseClaim, type ObservedLease } from './lease.ts';
import {
  checkFileName,
  MANIFEST_FORMAT,
  MANIFEST_NAME,
  manifestProblem,
  parseManifest,
  type FileEntry,
  type Manifest,
  type Producer,
  type ResumePoint,
  type SourceInfo,
} from './manifest.ts';
import { thisOwner } from './owner.ts';
import type { StagedArtifact } from './staging.ts';

/** What the producing stage tells `commit` besides the files. */
export interface CommitInfo extends ArtifactSpec {
  producer?: Producer;
  counts?: Record<string, number>;
  resumedFromChunk?: number;
  resumedFrom?: ResumePoint;
  source?: SourceInfo;
  summary?: { [key: string]: JsonValue };
}

export interface BeginOptions {
  producer?: Producer;
  /** Stops waiting for another attempt's lease (e.g. the activity's cancellation signal). */
  signal?: AbortSignal;
}

/** `begin` either makes this caller the one producer, or finds the artifact published meanwhile. */
export type Begun = { writer: ArtifactWriter; published?: undefined } | { published: Manifest; writer?: undefined };

/**
 * One attempt's handle on an artifact being produced: it holds the artifact's lease, so no other
 * attempt writes this artifact meanwhile. File names are artifact-relative. Every writer ends in
 * exactly one of commit, abandon or release (produceArtifact does this).
 */
export interface ArtifactWriter {
  readonly id: string;
  /** This attempt, as `producer.token` names it in the manifest it publishes. */
  readonly token: string;
  /**
   * Where this attempt's files are staged: for messages, and for files another thread writes
   * under a hidden name there and hands over through writeWithPath.
   */
  readonly stagingLocation: string;
  /** Files already present (carried over from an earlier attempt, or written since): the resume point. */
  listFiles(): Promise<string[]>;
  hasFile(name: string): Promise<boolean>;
  readFile(name: string): Promise<Uint8Array>;
  /** Atomic: the file is either absent or complete, even if the process dies mid-write. */
  writeFile(name: string, data: Uint8Array | string): Promise<void>;
  writeJson(name: string, value: unknown): Promise<void>;
  /** Drops a file this attempt no longer wants published (e.g. a checkpoint, once the work is done). */
  removeFile(name: string): Promise<void>;
  /**
   * For writers that need a real path (Arrow/Parquet/ONNX streaming writers): `produce` writes to
   * the temp path it is given; the file appears under `name` only once `produce` resolves.
   */
  writeWithPath(name: string, produce: (tempPath: string) => Promise<void>): Promise<void>;
  /**
   * Hashes every file, writes the manifest last, and publishes this attempt's files as the
   * artifact, naming this attempt as producer. If another attempt published the id first, its
   * manifest is returned and this attempt's staging dropped. On any failure nothing is deleted:
   * the files stay staged for the next attempt and the lease is released.
   */
  commit(info: CommitInfo): Promise<Manifest>;
  /** Bad input: drops this attempt's files (never another attempt's) and releases the lease. */
  abandon(): Promise<void>;
  /** Any other failure: keeps this attempt's files for the next attempt to resume from, releases the lease. */
  release(): Promise<void>;
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
  /**
   * Becomes the one producer of `id` (waiting, polling, while another live attempt holds the
   * lease), or returns the artifact another attempt published.
   */
  begin(id: string, options?: BeginOptions): Promise<Begun>;
  /** Leases and attempt folders not yet published or cleaned up (all, or those of `ids`). */
  staging(ids?: readonly string[]): Promise<StagedArtifact[]>;
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

function isTargetOccupied(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM' || code === 'EISDIR';
}

export function defaultProducer(): Producer {
  return { host: hostname(), pid: process.pid };
}

/** A holder silent this long loses its lease (unless its pid is provably gone, which counts at once). */
export const DEFAULT_LEASE_EXPIRY_MS = 300_000;

/** The longest pause between two looks at a lease held by another attempt. */
const DEFAULT_POLL_MS = 1000;

export interface LocalDirStoreOptions {
  /**
   * How long after its last refresh a lease held by a process that may be alive (another host,
   * or a live pid here) can be taken over. Keep it above the longest stretch a worker's event
   * loop is blocked (a forward-pass batch), e.g. a few activity heartbeat timeouts.
   */
  leaseExpiryMs?: number;
  /** How often a holder refreshes its lease; default a tenth of the expiry. */
  leaseRefreshMs?: number;
  /** Longest pause between polls while waiting for another attempt. */
  pollMs?: number;
}

export class LocalDirStore implements ArtifactStore {
  readonly root: string;
  readonly location: string;
  readonly cacheDir: string;
  readonly leaseExpiryMs: number;
  readonly leaseRefreshMs: number;
  readonly pollMs: number;

  constructor(root: string, options: LocalDirStoreOptions = {}) {
    this.root = resolve(root);
    this.location = this.root;
    this.cacheDir = join(this.root, '.cache');
    this.leaseExpiryMs = options.leaseExpiryMs ?? DEFAULT_LEASE_EXPIRY_MS;
    this.leaseRefreshMs = options.leaseRefreshMs ?? Math.max(20, Math.floor(this.leaseExpiryMs / 10));
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  artifactDir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  /** The artifact's staging folder: its lease and every attempt folder. */
  stagingDir(id: string): string {
    checkId(id);
    return join(this.root, '.staging', id);
  }

  /**
   * The folder a writer of this store writes its files to (extraction writes chunks there itself).
   * Whoever writes there directly must write each file under a temp name and rename it: a named
   * file may already be hard-linked into another attempt's folder, so it is never changed in place.
   */
  writerDir(writer: ArtifactWriter): string {
    if (!(writer instanceof LocalWriter) || writer.store !== this) throw new TypeError(`writer of ${writer.id} does not belong to store ${this.location}`);
    return writer.dir;
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
    return (await this.published(id)) !== undefined;
  }

  /** The manifest of `id` when the artifact is complete. */
  async published(id: string): Promise<Manifest | undefined> {
    const m = await this.manifest(id);
    if (!m) return undefined;
    for (const f of m.files) {
      try {
        if ((await stat(join(this.artifactDir(id), f.name))).size !== f.size) return undefined;
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    }
    return m;
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

  async begin(id: string, options: BeginOptions = {}): Promise<Begun> {
    const owner = thisOwner();
    const token = newToken(owner);
    const claim: LeaseClaim = { token, owner, producer: { ...defaultProducer(), ...options.producer, token } };
    const got = await this.awaitLease(id, claim, options.signal);
    if ('published' in got) return { published: got.published };
    try {
      return { writer: await this.openAttempt(id, claim, got.lease, options.signal) };
    } catch (e) {
      await closeAttempt(this.stagingDir(id), token).catch(() => {});
      await got.lease.release();
      throw e;
    }
  }

  /**
   * Polls until `id` is published (→ its manifest) or this claim holds its lease: when there is
   * none, when the holder released it or is provably dead, or when its refresh is past expiry.
   */
  async awaitLease(id: string, claim: LeaseClaim, signal?: AbortSignal): Promise<{ lease: Lease } | { published: Manifest }> {
    const dir = this.stagingDir(id);
    const timing = { expiryMs: this.leaseExpiryMs, refreshMs: this.leaseRefreshMs };
    // A lease file that cannot be parsed counts as held until it has looked so for a full expiry.
    const unreadableSince = new Map<number, number>();
    const takeable = (current: ObservedLease): boolean => {
      const status = leaseStatus(current, this.leaseExpiryMs);
      if (status !== 'unreadable') return status !== 'held';
      const since = unreadableSince.get(current.generation) ?? Date.now();
      unreadableSince.set(current.generation, since);
      return Date.now() - since > this.leaseExpiryMs;
    };
    for (let pause = 20; ; pause = Math.min(pause * 2, this.pollMs)) {
      signal?.throwIfAborted();
      const before = await this.published(id);
      if (before) return { published: before };
      const r = await tryAcquireLease(dir, claim, timing, takeable);
      if ('lease' in r) {
        // Published between the look and the lease: nothing to do but tidy up.
        const after = await this.published(id);
        if (!after) return { lease: r.lease };
        await this.tidy(id, r.lease, { published: true });
        return { published: after };
      }
      await sleep(pause, undefined, { signal });
    }
  }

  /**
   * A new attempt folder, resuming from the earlier attempt that got furthest (most files): its
   * files are checked and hard-linked in (attempt.ts), and its history is carried on.
   */
  private async openAttempt(id: string, claim: LeaseClaim, lease: Lease, signal?: AbortSignal): Promise<LocalWriter> {
    const staging = this.stagingDir(id);
    let from: StagedAttempt | undefined;
    let most = -1;
    for (const a of await listAttempts(staging)) {
      const n = (await listFilesUnder(a.dir)).length;
      const later = (a.info?.attempts.at(-1)?.startedAt ?? '') > (from?.info?.attempts.at(-1)?.startedAt ?? '');
      if (n > most || (n === most && later)) [from, most] = [a, n];
    }
    const startedAt = new Date().toISOString();
    const info: AttemptInfo = {
      format: ATTEMPT_FORMAT,
      token: claim.token,
      owner: claim.owner,
      attempts: [...(from?.info?.attempts ?? []), { startedAt, producer: claim.producer, carriedFiles: 0 }],
    };
    const dir = await createAttempt(staging, info);
    const ledger = ledgerPath(staging, claim.token);
    const carried = from && most > 0 ? await carryFiles(from, staging, dir, ledger) : { files: [], rejected: [] };
    if (carried.files.length > 0) {
      info.attempts[info.attempts.length - 1]!.carriedFiles = carried.files.length;
      await createAttempt(staging, info);
    }
    return new LocalWriter(this, id, claim, dir, ledger, lease, info, carried.files, signal);
  }

  /**
   * After `id` was published: removes the attempt folders nobody can still be writing (closed
   * ones, those of dead processes; they are of no further use), then the artifact's staging
   * folder once no attempt folder is left — while holding `lease`, or when nobody holds one
   * (whoever takes a lease now finds the artifact published). After bad input (`published`
   * false) only the staging folder goes, and only if no other attempt has a folder there and
   * `lease` is still held, so no other attempt can be starting there. `lease` is released at the
   * end. Best effort: a failed cleanup leaves folders `ufg verify` lists, and never fails the
   * publish before it.
   */
  async tidy(id: string, lease: Lease, options: { published: boolean }): Promise<void> {
    const staging = this.stagingDir(id);
    try {
      let left = 0;
      for (const a of await listAttempts(staging)) {
        if (options.published && attemptState(a) !== 'possibly-live') await removeAttempt(staging, a.token);
        else left++;
      }
      const mayRemove = (await lease.held()) || (options.published && !(await observeLease(staging)));
      if (left === 0 && mayRemove) {
        const trash = join(this.root, '.staging', `.trash-${lease.token}`);
        await rename(staging, trash);
        await rm(trash, { recursive: true, force: true });
      }
    } catch {
      // see above: what is left is listed by `ufg verify`
    } finally {
      await lease.release().catch(() => {});
    }
  }

  async staging(ids?: readonly string[]): Promise<StagedArtifact[]> {
    let names: string[];
    if (ids) names = [...ids];
    else {
      try {
        names = (await readdir(join(this.root, '.staging'))).filter(isArtifactId).sort();
      } catch (e) {
        if (isMissing(e)) return [];
        throw e;
      }
    }
    const out: StagedArtifact[] = [];
    for (const id of names) {
      const path = this.stagingDir(id);
      if (!existsSync(path)) continue;
      const lease = await observeLease(path);
      const attempts = [];
      for (const a of await listAttempts(path)) {
        let bytes = 0;
        const files = await listFilesUnder(a.dir);
        for (const f of files) bytes += await stat(join(a.dir, f)).then((s) => s.size, () => 0);
        const last = a.info?.attempts.at(-1);
        attempts.push({
          token: a.token,
          path: a.dir,
          state: attemptState(a),
          ...(a.info ? { owner: a.info.owner } : {}),
          ...(last ? { producer: last.producer, startedAt: last.startedAt } : {}),
          files: files.length,
          bytes,
        });
      }
      const age = lease ? leaseAgeMs(lease) : undefined;
      out.push({
        id,
        path,
        published: await this.has(id),
        ...(lease
          ? {
              lease: {
                generation: lease.generation,
                status: leaseStatus(lease, this.leaseExpiryMs),
                ...(lease.record ? { holder: lease.record.owner, producer: lease.record.producer, refreshedAt: lease.record.refreshedAt } : {}),
                ...(age !== undefined ? { ageMs: age } : {}),
              },
            }
          : {}),
        attempts,
      });
    }
    return out;
  }
}

class LocalWriter implements ArtifactWriter {
  /** What each file was when written or carried over, so commit re-hashes only what changed. */
  private readonly known = new Map<string, FileRecord>();

  /**
   * Every file this attempt carried over or wrote. Commit refuses to publish if one is missing
   * from the folder (removed by hand, or by someone mistaking the folder for abandoned).
   */
  private readonly own: Set<string>;

  private ended = false;

  constructor(
    readonly store: LocalDirStore,
    readonly id: string,
    private readonly claim: LeaseClaim,
    readonly dir: string,
    private readonly ledger: string,
    private lease: Lease,
    private readonly info: AttemptInfo,
    carried: readonly FileRecord[],
    private readonly signal: AbortSignal | undefined,
  ) {
    for (const f of carried) this.known.set(f.name, f);
    this.own = new Set(carried.map((f) => f.name));
  }

  get token(): string {
    return this.claim.token;
  }

  get stagingLocation(): string {
    return this.dir;
  }

  private get staging(): string {
    return this.store.stagingDir(this.id);
  }

  private checkOpen(): void {
    if (this.ended) throw new Error(`writer of ${this.id} was already committed, abandoned or released`);
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
    this.checkOpen();
    const path = join(this.dir, name);
    try {
      await writeFileAtomic(path, data);
    } catch (e) {
      const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      throw await asStoreFull(e, { location: this.store.location, doing: `writing ${name} of ${this.id}`, bytesNeeded: bytes, kept: this.dir });
    }
    const s = await stat(path);
    const entry: FileRecord = { name, size: s.size, sha256: sha256Bytes(data), ino: s.ino, mtimeMs: s.mtimeMs };
    this.known.set(name, entry);
    this.own.add(name);
    await recordFile(this.ledger, entry);
  }

  async removeFile(name: string): Promise<void> {
    checkFileName(name);
    this.checkOpen();
    await rm(join(this.dir, name), { force: true });
    this.own.delete(name);
    this.known.delete(name);
  }

  writeJson(name: string, value: unknown): Promise<void> {
    return this.writeFile(name, JSON.stringify(value, null, 2) + '\n');
  }

  async writeWithPath(name: string, produce: (tempPath: string) => Promise<void>): Promise<void> {
    checkFileName(name);
    this.checkOpen();
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
      throw await asStoreFull(e, { location: this.store.location, doing: `writing ${name} of ${this.id}`, kept: this.dir });
    }
    await fsyncDir(parent);
  }

  private async entryFor(name: string): Promise<FileEntry> {
    const path = join(this.dir, name);
    const s = await stat(path);
    const k = this.known.get(name);
    const same = k && k.size === s.size && k.ino === s.ino && k.mtimeMs === s.mtimeMs;
    return { name, size: s.size, sha256: same ? k.sha256 : await sha256File(path) };
  }

  async commit(info: CommitInfo): Promise<Manifest> {
    const expected = artifactId(info);
    if (expected !== this.id) {
      throw new Error(`commit of ${this.id} with a spec whose id is ${expected}: stage, params or inputs changed`);
    }
    this.checkOpen();
    try {
      const winner = (await this.store.published(this.id)) ?? (await this.holdLease());
      if (winner) {
        await this.drop({ published: true });
        return winner;
      }
      return await this.publish(info);
    } catch (e) {
      await this.release();
      throw e;
    }
  }

  /**
   * Makes sure this attempt still holds the lease. One stalled past expiry (a frozen VM, a
   * suspended process) finds it taken over; it then waits like any other attempt, and either the
   * new holder publishes (→ that manifest) or the lease frees up again and this attempt takes it
   * back to publish its own, complete files.
   */
  private async holdLease(): Promise<Manifest | undefined> {
    if (await this.lease.held()) return undefined;
    await this.lease.release();
    const got = await this.store.awaitLease(this.id, this.claim, this.signal);
    if ('published' in got) return got.published;
    this.lease = got.lease;
    return undefined;
  }

  private async publish(info: CommitInfo): Promise<Manifest> {
    await removeStrayTempFiles(this.dir);
    const present = await listFilesUnder(this.dir);
    const missing = [...this.own].filter((f) => !present.includes(f));
    if (missing.length > 0) {
      throw new Error(`staging folder ${this.dir} of ${this.id} lost ${missing.length} file(s) this attempt wrote (${missing.slice(0, 3).join(', ')}); not publishing a partial artifact`);
    }
    const files: FileEntry[] = [];
    for (const name of present) files.push(await this.entryFor(name));
    const attempts = this.info.attempts;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id: this.id,
      stage: info.stage,
      codeVersion: info.codeVersion,
      params: normalizeJson(info.params ?? null),
      inputs: [...info.inputs],
      files,
      producer: { ...this.claim.producer, ...info.producer, token: this.claim.token },
      startedAt: attempts[0]?.startedAt ?? new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      counts: { ...info.counts },
      ...(info.resumedFromChunk !== undefined ? { resumedFromChunk: info.resumedFromChunk } : {}),
      ...(info.resumedFrom ? { resumedFrom: info.resumedFrom } : {}),
      ...(attempts.length > 1 ? { attempts } : {}),
      ...(info.source ? { source: info.source } : {}),
      ...(info.summary ? { summary: info.summary } : {}),
    };
    const text = JSON.stringify(manifest, null, 2) + '\n';
    const staged = files.reduce((a, f) => a + f.size, 0);
    const full = (e: unknown) =>
      asStoreFull(e, {
        location: this.store.location,
        doing: `publishing ${this.id} (manifest of ${files.length} files, ${formatBytes(staged)} already staged)`,
        bytesNeeded: Buffer.byteLength(text),
        kept: this.dir,
      });
    const manifestPath = join(this.dir, MANIFEST_NAME);
    try {
      await writeFileAtomic(manifestPath, text);
    } catch (e) {
      throw await full(e);
    }
    const target = this.store.artifactDir(this.id);
    try {
      await rename(this.dir, target);
    } catch (e) {
      // The folder stays staged as it was: only the manifest goes, so a retry re-derives it.
      await rm(manifestPath, { force: true });
      if (isTargetOccupied(e)) {
        const winner = await this.store.published(this.id);
        if (winner) {
          await this.drop({ published: true });
          return winner;
        }
        throw new Error(`${target} exists but holds no complete artifact; run 'ufg verify' and remove it (this attempt's files stay staged in ${this.dir})`);
      }
      throw await full(e);
    }
    this.ended = true;
    await fsyncDir(this.store.root).catch(() => {}); // the rename is done; a failed sync must not undo "published"
    // The folder itself is the artifact now; its bookkeeping and idle predecessors can go.
    await removeAttempt(this.staging, this.claim.token).catch(() => {});
    await this.store.tidy(this.id, this.lease, { published: true });
    return manifest;
  }

  /** This attempt's files are not needed (published by another, or bad input): delete them. */
  private async drop(options: { published: boolean }): Promise<void> {
    this.ended = true;
    try {
      await removeAttempt(this.staging, this.claim.token);
    } catch (e) {
      await this.lease.release();
      throw e;
    }
    await this.store.tidy(this.id, this.lease, options);
  }

  async abandon(): Promise<void> {
    if (this.ended) return;
    await this.drop({ published: false });
  }

  async release(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await closeAttempt(this.staging, this.claim.token);
    } finally {
      await this.lease.release();
    }
  }
}

export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.UFG_HOME ? join(env.UFG_HOME, 'store') : join(cwd, '.ufg', 'store');
}

/**
 * The store the CLI and workers use: `--store` when given, else the default root. The lease
 * expiry can be set with UFG_LEASE_EXPIRY_SECONDS (all machines sharing a store should agree).
 */
export function openStore(root?: string, env: NodeJS.ProcessEnv = process.env): LocalDirStore {
  const seconds = Number(env.UFG_LEASE_EXPIRY_SECONDS);
  return new LocalDirStore(root ?? defaultStoreRoot(env), Number.isFinite(seconds) && seconds > 0 ? { leaseExpiryMs: seconds * 1000 } : {});
}
