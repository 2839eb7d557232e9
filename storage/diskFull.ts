// A full disk (or an exhausted quota) is something the user fixes, not a bug: one line naming the
// store, how much more space the failed step needs, and what is kept. It stays a retryable
// failure (not a UserInputError): once space is freed, the next attempt resumes from the kept
// staging files.
import { statfs } from 'node:fs/promises';

export function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export class StoreFullError extends Error {
  override readonly name = 'StoreFullError';
  constructor(
    message: string,
    readonly location: string,
    readonly code: string,
    /** What the failed step still had to write, when known. */
    readonly bytesNeeded: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

async function space(location: string): Promise<{ free: number; block: number } | undefined> {
  try {
    const s = await statfs(location);
    return { free: s.bavail * s.bsize, block: s.bsize };
  } catch {
    return undefined;
  }
}

export interface StoreFullContext {
  /** The store's location (its root directory). */
  location: string;
  /** What failed, e.g. "publishing extract-… (manifest of 12 files, 3.1 MB staged)". */
  doing: string;
  bytesNeeded?: number;
  /** Where the staged files are kept for the next attempt. */
  kept?: string;
}

/** Wraps a disk-full error; anything else (and an already wrapped one) is returned unchanged. */
export async function asStoreFull(e: unknown, ctx: StoreFullContext): Promise<unknown> {
  if (!isDiskFull(e) || e instanceof StoreFullError) return e;
  const code = (e as NodeJS.ErrnoException).code!;
  const fs = await space(ctx.location);
  const what = code === 'EDQUOT' ? 'over its disk quota (EDQUOT)' : 'out of disk space (ENOSPC)';
  let need = 'needs more space';
  if (ctx.bytesNeeded !== undefined) {
    need = `needs ${formatBytes(ctx.bytesNeeded)} more`;
    // A small file still takes whole blocks: say what it takes on this filesystem.
    const onDisk = fs && fs.block > 1 ? Math.ceil(ctx.bytesNeeded / fs.block) * fs.block : ctx.bytesNeeded;
    if (onDisk !== ctx.bytesNeeded) need += ` (${formatBytes(onDisk)} in ${fs!.block}-byte blocks)`;
  }
  const freeText = fs ? `, ${formatBytes(fs.free)} free` : '';
  const kept = ctx.kept ? `; staged files are kept in ${ctx.kept} and the next attempt resumes from them` : '';
  return new StoreFullError(`store ${ctx.location} is ${what}: ${ctx.doing} ${need}${freeText}${kept}; free space and retry`, ctx.location, code, ctx.bytesNeeded, { cause: e });
}
