// One attempt's staging folder and its bookkeeping. An attempt is one lease holder producing one
// artifact; everything it writes goes to its own folder, so two attempts never mix files, and
// committing renames that one folder into place. Beside the folder, in the artifact's staging
// folder (so none of it is published):
//   <token>/               the artifact's files as this attempt writes them
//   <token>.json           who made the attempt (owner, producer), and the attempts it continues
//   <token>.closed.json    the same record once its writer let go after a failure: no process
//                          writes to the folder again, so it may be cleaned up after a publish
//   <token>.files.jsonl    size, sha256, inode and mtime of each file as it was written
// A later lease holder resumes from one earlier attempt: it hard-links that attempt's files into
// its own folder after checking them against the recorded digests (a file without a record came
// from an atomic write, so it is whole; it is hashed once here instead of at commit).
import { randomBytes } from 'node:crypto';
import { appendFile, constants, copyFile, link, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256File, writeJsonAtomic } from './atomic.ts';
import { isDiskFull } from './diskFull.ts';
import { isMissing, listFilesUnder } from './dirFiles.ts';
import type { AttemptRecord } from './manifest.ts';
import { isOwner, provablyDead, type Owner } from './owner.ts';

export const ATTEMPT_FORMAT = 1;

export interface AttemptInfo {
  format: number;
  token: string;
  owner: Owner;
  /** The attempts whose files this one continues, oldest first, then this one. */
  attempts: AttemptRecord[];
}

export interface StagedAttempt {
  token: string;
  dir: string;
  /** Undefined when the record is missing or unreadable. */
  info?: AttemptInfo;
  closed: boolean;
}

/** closed: let go by its writer; owner-dead: its process is provably gone; else it may be running. */
export type AttemptState = 'closed' | 'owner-dead' | 'possibly-live';

/** What a file was when its writer recorded it. */
export interface FileRecord {
  name: string;
  size: number;
  sha256: string;
  ino: number;
  mtimeMs: number;
}

const TOKEN = /^[A-Za-z0-9._-]+~\d+~[0-9a-f]+$/;

export function newToken(owner: Owner): string {
  const host = owner.host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
  return `${host}~${owner.pid}~${randomBytes(4).toString('hex')}`;
}

export function attemptDir(stagingDir: string, token: string): string {
  return join(stagingDir, token);
}

const recordPath = (stagingDir: string, token: string) => join(stagingDir, `${token}.json`);
const closedPath = (stagingDir: string, token: string) => join(stagingDir, `${token}.closed.json`);
export const ledgerPath = (stagingDir: string, token: string) => join(stagingDir, `${token}.files.jsonl`);

function parseInfo(text: string): AttemptInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<AttemptInfo>;
    if (v.format !== ATTEMPT_FORMAT || typeof v.token !== 'string' || !isOwner(v.owner) || !Array.isArray(v.attempts)) return undefined;
    return v as AttemptInfo;
  } catch {
    return undefined;
  }
}

async function readInfo(path: string): Promise<AttemptInfo | undefined> {
  try {
    return parseInfo(await readFile(path, 'utf8'));
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/** The record is written before the folder exists, so every attempt folder has an owner on record. */
export async function createAttempt(stagingDir: string, info: AttemptInfo): Promise<string> {
  await writeJsonAtomic(recordPath(stagingDir, info.token), info);
  const dir = attemptDir(stagingDir, info.token);
  await mkdir(dir, { recursive: true });
  return dir;
}

export async function listAttempts(stagingDir: string): Promise<StagedAttempt[]> {
  let entries;
  try {
    entries = await readdir(stagingDir, { withFileTypes: true });
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
  const out: StagedAttempt[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !TOKEN.test(e.name)) continue;
    const open = await readInfo(recordPath(stagingDir, e.name));
    const closed = open ? undefined : await readInfo(closedPath(stagingDir, e.name));
    out.push({ token: e.name, dir: join(stagingDir, e.name), ...(open ?? closed ? { info: (open ?? closed)! } : {}), closed: !open && !!closed });
  }
  return out;
}

export function attemptState(a: StagedAttempt): AttemptState {
  if (a.closed) return 'closed';
  if (a.info && provablyDead(a.info.owner)) return 'owner-dead';
  return 'possibly-live';
}

/** Marks the attempt as let go (a rename: works on a full disk). */
export async function closeAttempt(stagingDir: string, token: string): Promise<void> {
  try {
    await rename(recordPath(stagingDir, token), closedPath(stagingDir, token));
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
}

/** Deletes the attempt's folder and bookkeeping. */
export async function removeAttempt(stagingDir: string, token: string): Promise<void> {
  await rm(attemptDir(stagingDir, token), { recursive: true, force: true });
  for (const p of [recordPath(stagingDir, token), closedPath(stagingDir, token), ledgerPath(stagingDir, token)]) await rm(p, { force: true });
}

/** A lost record only costs a re-hash on resume, so a full disk does not fail the write for it. */
export async function recordFile(ledger: string, entry: FileRecord): Promise<void> {
  try {
    await appendFile(ledger, JSON.stringify(entry) + '\n');
  } catch (e) {
    if (!isDiskFull(e) && !isMissing(e)) throw e;
  }
}

async function readLedger(ledger: string): Promise<Map<string, FileRecord>> {
  const out = new Map<string, FileRecord>();
  let text: string;
  try {
    text = await readFile(ledger, 'utf8');
  } catch (e) {
    if (isMissing(e)) return out;
    throw e;
  }
  for (const line of text.split('\n')) {
    try {
      const r = JSON.parse(line) as FileRecord;
      if (typeof r.name === 'string' && typeof r.sha256 === 'string') out.set(r.name, r); // the last record of a name wins
    } catch {
      // a line torn by a crash
    }
  }
  return out;
}

const NO_LINK = ['EPERM', 'EXDEV', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'];

export interface Carried {
  files: FileRecord[];
  /** Files left behind because they no longer match what was recorded when they were written. */
  rejected: string[];
}

/**
 * Carries `from`'s files into `toDir` (hard links; a copy where links are not supported), each
 * checked first: a file whose inode still has the recorded size and mtime keeps its recorded
 * sha256; one changed in place since it was recorded is re-hashed and left behind unless its
 * content is unchanged; one without a record is hashed.
 */
export async function carryFiles(from: StagedAttempt, stagingDir: string, toDir: string, toLedger: string): Promise<Carried> {
  const recorded = await readLedger(ledgerPath(stagingDir, from.token));
  const files: FileRecord[] = [];
  const rejected: string[] = [];
  for (const name of await listFilesUnder(from.dir)) {
    const src = join(from.dir, name);
    const dst = join(toDir, name);
    await mkdir(dirname(dst), { recursive: true });
    let linked = true;
    try {
      await link(src, dst);
    } catch (e) {
      if (isMissing(e)) continue; // replaced or removed meanwhile
      if (!NO_LINK.includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      linked = false;
    }
    const source = await stat(linked ? dst : src);
    if (!linked) await copyFile(src, dst, constants.COPYFILE_EXCL);
    const rec = recorded.get(name);
    let sha256: string;
    if (rec && rec.ino === source.ino && rec.size === source.size && rec.mtimeMs === source.mtimeMs) {
      sha256 = rec.sha256;
    } else {
      sha256 = await sha256File(dst);
      if (rec && rec.ino === source.ino && rec.sha256 !== sha256) {
        await rm(dst, { force: true });
        rejected.push(name);
        continue;
      }
    }
    const s = await stat(dst);
    const entry: FileRecord = { name, size: s.size, sha256, ino: s.ino, mtimeMs: s.mtimeMs };
    await recordFile(toLedger, entry);
    files.push(entry);
  }
  return { files, rejected };
}
