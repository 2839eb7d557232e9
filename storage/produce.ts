// The one pattern every activity follows: derive the id, return the finished artifact untouched
// if the store has it (this is what makes `resume` cheap), otherwise become its one producer
// (waiting while another attempt holds the lease), produce it in staging — resuming from the
// chunks an earlier attempt persisted — and commit.
import { basename } from 'node:path';
import { isUserInputError } from '../pipelines/errors.ts';
import { artifactId, type ArtifactSpec, type JsonValue } from './artifactId.ts';
import { asStoreFull } from './diskFull.ts';
import type { Manifest, Producer, ResumePoint } from './manifest.ts';
import type { ArtifactStore, ArtifactWriter } from './store.ts';

export interface ProduceResult {
  manifest: Manifest;
  /** True when the artifact was published by another attempt (it existed, or one finished first). */
  reused: boolean;
}

export interface ProducedInfo {
  counts?: Record<string, number>;
  resumedFromChunk?: number;
  resumedFrom?: ResumePoint;
  summary?: { [key: string]: JsonValue };
}

export interface ProduceOptions {
  producer?: Producer;
  /** Cancels waiting for another attempt (the work itself watches its own cancellation). */
  signal?: AbortSignal;
}

/**
 * Bad input (UserInputError) drops this attempt's files; any other failure keeps them staged for
 * the next attempt, in this process or another, to resume from. A full disk surfaces as one
 * StoreFullError line naming the store (retryable: free space and the retry resumes).
 */
export async function produceArtifact(
  store: ArtifactStore,
  spec: ArtifactSpec,
  work: (writer: ArtifactWriter) => Promise<ProducedInfo | void>,
  options: ProduceOptions = {},
): Promise<ProduceResult> {
  const id = artifactId(spec);
  let kept: string | undefined;
  try {
    const begun = await store.begin(id, options);
    if (begun.published) return { manifest: begun.published, reused: true };
    const writer = begun.writer;
    kept = writer.stagingLocation;
    let info: ProducedInfo;
    try {
      info = (await work(writer)) ?? {};
    } catch (e) {
      if (isUserInputError(e)) await writer.abandon();
      else await writer.release();
      throw e;
    }
    const manifest = await writer.commit({ ...spec, ...info, producer: options.producer });
    // Another attempt may have published first (this one was stalled past its lease's expiry).
    return { manifest, reused: manifest.producer.token !== writer.token };
  } catch (e) {
    const path = (e as NodeJS.ErrnoException).path;
    throw await asStoreFull(e, { location: store.location, doing: `producing ${id}${path ? ` (writing ${basename(path)})` : ''}`, ...(kept ? { kept } : {}) });
  }
}

/** Zero-padded so chunk files sort in order: `<prefix>-000042<suffix>`. */
export function chunkFileName(prefix: string, index: number, suffix = ''): string {
  return `${prefix}-${String(index).padStart(6, '0')}${suffix}`;
}

/**
 * Number of leading chunks already persisted (0, 1, …, n-1 all present): the chunk to resume
 * from. A gap means a later chunk was written out of order; it is simply rewritten.
 */
export async function persistedChunkCount(writer: ArtifactWriter, prefix: string, suffix = ''): Promise<number> {
  const present = new Set(await writer.listFiles());
  let n = 0;
  while (present.has(chunkFileName(prefix, n, suffix))) n++;
  return n;
}
