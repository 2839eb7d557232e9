// Persists extraction chunks in the background while the next chunk's forward passes run.
//
// Why it is shaped like this: the forward passes run in a compute thread (kernels/session.ts), and
// this thread, which feeds them batch by batch, must not stall them. So a chunk costs this thread
// only the Arrow framing (the file is written as pieces that point into the column buffers, with
// one vectored write: no copy into a file-sized buffer), and every system call — which can block
// for milliseconds on a busy filesystem journal — runs on libuv's thread pool: open (O_DSYNC, so
// the write returns only once the bytes are durable: no separate fsync), writev, close, rename.
// The directory is fsynced once, in `finish`, not per chunk.
//
// Resume safety: a chunk's bytes are durable before its name appears, so after a crash a chunk
// file is either complete or absent (a rename lost in the crash only means it is recomputed).
// The final file (the index, whose presence means "done") is renamed only after every chunk
// rename has been made durable by that directory fsync.
// At most one write is in flight; a failed write, or a failed `after` callback, surfaces at the
// next `write` or at `finish`, so no later chunk is written after it.
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { encodeArrowChunkParts, type ArrowColumn } from '../../storage/arrow.ts';
import { fsyncDir, tempPathFor } from '../../storage/atomic.ts';

// Windows has no O_DSYNC: there the write is followed by an explicit datasync.
const O_DSYNC = constants.O_DSYNC ?? 0;

export class ChunkWriter {
  private inFlight: Promise<void>;
  private wroteAny = false;

  /** `before`: a write that must complete before the first chunk (e.g. the plan file). */
  constructor(
    private readonly dir: string,
    before: Promise<void> = Promise.resolve(),
  ) {
    this.inFlight = before;
    this.inFlight.catch(() => {}); // observed by the next write/finish; no unhandled rejection meanwhile
  }

  /**
   * Waits for the previous write (rethrowing its failure), then starts persisting `columns`;
   * `after` runs once the chunk is on disk. The columns' buffers are written from in place: the
   * caller must leave them untouched until the next `write` or `finish` resolves.
   */
  async write(path: string, columns: ArrowColumn[], metadata: Record<string, string>, after?: () => void | Promise<void>): Promise<void> {
    await this.inFlight;
    const parts = await encodeArrowChunkParts(columns, metadata);
    this.wroteAny = true;
    this.inFlight = (async () => {
      await persist(path, parts);
      await after?.();
    })();
    this.inFlight.catch(() => {});
  }

  /**
   * Waits for the last chunk, makes every rename durable, then publishes `last` (written while
   * the last chunk was, but renamed into place only now).
   */
  async finish(last?: { path: string; bytes: Uint8Array }): Promise<void> {
    const staged = last ? writeDurable(tempPathFor(last.path), [last.bytes]) : undefined;
    try {
      await this.inFlight;
      const tmp = await staged;
      if (this.wroteAny || tmp) await fsyncDir(this.dir);
      if (last && tmp) {
        await rename(tmp, last.path);
        await fsyncDir(this.dir);
      }
    } catch (e) {
      const tmp = await staged?.catch(() => undefined);
      if (tmp) await rm(tmp, { force: true });
      throw e;
    }
  }

  /** After a failure elsewhere: let the write in flight settle (ignoring its outcome). */
  async abandon(): Promise<void> {
    await this.inFlight.catch(() => {});
  }
}

async function persist(path: string, parts: Uint8Array[]): Promise<void> {
  const tmp = await writeDurable(tempPathFor(path), parts);
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Writes `parts` to a new file `tmp` and returns once they are durable; removes it on failure. */
async function writeDurable(tmp: string, parts: Uint8Array[]): Promise<string> {
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_DSYNC, 0o644);
  try {
    let rest = parts.filter((p) => p.byteLength > 0);
    while (rest.length > 0) {
      let { bytesWritten } = await handle.writev(rest);
      // A short write (rare on regular files): drop what went out and continue with the rest.
      while (rest.length > 0 && bytesWritten >= rest[0]!.byteLength) bytesWritten -= rest.shift()!.byteLength;
      if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
    }
    if (!O_DSYNC) await handle.datasync();
    await handle.close();
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  return tmp;
}
