// The lease that elects one producer per artifact. It lives in the artifact's staging folder as
// numbered files, `lease-000001.json`, `lease-000002.json`, …; the highest number is the lease.
//
// - Acquire: write the record to a temp file and hard-link it to the next number. link() fails
//   when the name exists, so of two processes going for the same number exactly one wins, and a
//   reader never sees a half-written lease.
// - Refresh: the holder rewrites its own file (temp + rename) with a new `refreshedAt`. Only the
//   holder ever writes its number, so a refresh never overwrites anyone else's lease.
// - Expiry is judged from `refreshedAt` in the file (never from mtime), against the longer of the
//   reader's and the holder's expiry. A holder on this host whose pid is gone is taken over at
//   once (see owner.ts); any other holder only after expiry.
// - Take over: create the next number. A holder that was stalled past expiry finds a higher
//   number when it checks and knows it lost the lease.
// - Release: the holder deletes its file (which needs no disk space, so it works on a full disk).
//   A number freed this way may be taken again; nobody checks a lease after releasing it.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeJsonAtomic } from './atomic.ts';
import { isMissing } from './dirFiles.ts';
import type { Producer } from './manifest.ts';
import { isOwner, provablyDead, type Owner } from './owner.ts';

export const LEASE_FORMAT = 1;

export interface LeaseRecord {
  format: number;
  /** The holding attempt (its staging folder is named after it). */
  token: string;
  generation: number;
  owner: Owner;
  producer: Producer;
  acquiredAt: string;
  /** Refreshed while the holder works; expiry counts from here. */
  refreshedAt: string;
  /** The holder's expiry setting: readers wait at least this long after `refreshedAt`. */
  expiryMs: number;
}

export interface LeaseTiming {
  expiryMs: number;
  refreshMs: number;
}

/** The newest lease file; `record` is undefined when it cannot be parsed. */
export interface ObservedLease {
  generation: number;
  record?: LeaseRecord;
}

export type LeaseStatus = 'held' | 'expired' | 'owner-dead' | 'unreadable';

const LEASE_NAME = /^lease-(\d+)\.json$/;

export function leaseFileName(generation: number): string {
  return `lease-${String(generation).padStart(6, '0')}.json`;
}

function parseLease(text: string): LeaseRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<LeaseRecord>;
    if (v.format !== LEASE_FORMAT || typeof v.token !== 'string' || typeof v.generation !== 'number') return undefined;
    if (!isOwner(v.owner) || typeof v.refreshedAt !== 'string' || typeof v.expiryMs !== 'number') return undefined;
    return v as LeaseRecord;
  } catch {
    return undefined;
  }
}

export async function observeLease(dir: string): Promise<ObservedLease | undefined> {
  for (let tries = 0; tries < 10; tries++) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
    const generations = names.flatMap((n) => {
      const m = LEASE_NAME.exec(n);
      return m ? [Number(m[1])] : [];
    });
    if (generations.length === 0) return undefined;
    const generation = Math.max(...generations);
    try {
      return { generation, record: parseLease(await readFile(join(dir, leaseFileName(generation)), 'utf8')) };
    } catch (e) {
      if (!isMissing(e)) throw e;
      // released between the listing and the read: look again
    }
  }
  return undefined;
}

export function leaseStatus(lease: ObservedLease, expiryMs: number, now = Date.now()): LeaseStatus {
  const r = lease.record;
  if (!r) return 'unreadable';
  if (provablyDead(r.owner)) return 'owner-dead';
  const age = now - Date.parse(r.refreshedAt);
  return age <= Math.max(expiryMs, r.expiryMs) ? 'held' : 'expired';
}

export function leaseAgeMs(lease: ObservedLease, now = Date.now()): number | undefined {
  return lease.record ? now - Date.parse(lease.record.refreshedAt) : undefined;
}

type CreateOutcome = 'created' | 'exists' | 'no-dir';

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Creates `path` holding `text` only if no file has that name; the content appears whole. */
async function createExclusive(dir: string, name: string, text: string): Promise<CreateOutcome> {
  const path = join(dir, name);
  const tmp = join(dir, `.${name}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    const h = await open(tmp, 'wx');
    try {
      await h.writeFile(text);
      await h.sync();
    } finally {
      await h.close();
    }
  } catch (e) {
    await rm(tmp, { force: true });
    if (isMissing(e)) return 'no-dir';
    throw e;
  }
  try {
    await link(tmp, path);
  } catch (e) {
    if (code(e) === 'EEXIST') return 'exists';
    if (isMissing(e)) return 'no-dir';
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(code(e) ?? '')) throw e;
    // No hard links on this filesystem: exclusive create, then write. A reader that catches the
    // file before its content lands sees it as unreadable, which counts as held.
    try {
      const h = await open(path, 'wx');
      try {
        await h.writeFile(text);
        await h.sync();
      } finally {
        await h.close();
      }
    } catch (e2) {
      if (code(e2) === 'EEXIST') return 'exists';
      throw e2;
    }
  } finally {
    await rm(tmp, { force: true });
  }
  await fsyncDir(dir);
  return 'created';
}

export interface LeaseClaim {
  token: string;
  owner: Owner;
  producer: Producer;
}

/**
 * Takes the lease of the staging folder `dir` when there is none or `takeable` says the current
 * one may be taken over; otherwise reports who holds it.
 */
export async function tryAcquireLease(
  dir: string,
  claim: LeaseClaim,
  timing: LeaseTiming,
  takeable: (current: ObservedLease) => boolean,
): Promise<{ lease: Lease } | { busy: ObservedLease }> {
  await mkdir(dir, { recursive: true });
  for (;;) {
    const current = await observeLease(dir);
    if (current && !takeable(current)) return { busy: current };
    const generation = (current?.generation ?? 0) + 1;
    const now = new Date().toISOString();
    const record: LeaseRecord = { format: LEASE_FORMAT, ...claim, generation, acquiredAt: now, refreshedAt: now, expiryMs: timing.expiryMs };
    const outcome = await createExclusive(dir, leaseFileName(generation), JSON.stringify(record, null, 2) + '\n');
    if (outcome === 'created') return { lease: new Lease(dir, record, timing.refreshMs) };
    // 'exists': another process took that number first; look again. 'no-dir': a finishing writer
    // removed the staging folder meanwhile; make it again.
    if (outcome === 'no-dir') await mkdir(dir, { recursive: true });
  }
}

/** A lease this process holds; refreshed in the background until released. */
export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private released = false;

  constructor(
    readonly dir: string,
    private record: LeaseRecord,
    refreshMs: number,
  ) {
    this.timer = setInterval(() => {
      this.refreshing ??= this.refreshNow().finally(() => (this.refreshing = undefined));
    }, refreshMs);
    this.timer.unref(); // a forgotten lease must not keep the process alive; it simply expires
  }

  get token(): string {
    return this.record.token;
  }

  get generation(): number {
    return this.record.generation;
  }

  private get path(): string {
    return join(this.dir, leaseFileName(this.record.generation));
  }

  /** Whether this is still the newest lease and still ours (false once someone took it over). */
  async held(): Promise<boolean> {
    if (this.released) return false;
    const current = await observeLease(this.dir);
    return current?.generation === this.generation && current.record?.token === this.token;
  }

  private async refreshNow(): Promise<void> {
    try {
      if (!(await this.held())) return;
      const next = { ...this.record, refreshedAt: new Date().toISOString() };
      await writeJsonAtomic(this.path, next);
      this.record = next;
    } catch {
      // A full disk or a transient error: try again next tick; at worst the lease expires.
    }
  }

  /** Stops refreshing and deletes the lease file if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing; // a refresh in flight must not bring the file back after the delete
    try {
      const mine = parseLease(await readFile(this.path, 'utf8'))?.token === this.token;
      if (mine) await rm(this.path, { force: true });
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
  }
}
