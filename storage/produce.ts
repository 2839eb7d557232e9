// The one pattern every activity follows: derive the id, return the finished artifact untouched
// if the store has it (this is what makes `resume` cheap), otherwise produce it in staging —
// resuming from persisted chunks — and commit.
import { artifactId, type ArtifactSpec, type JsonValue } from './artifactId.ts';
import type { Manifest, Producer } from './manifest.ts';
import type { ArtifactStore, ArtifactWriter } from './store.ts';

export interface ProduceResult {
  manifest: Manifest;
  /** True when the artifact already existed and nothing was computed. */
  reused: boolean;
}

export interface ProducedInfo {
  counts?: Record<string, number>;
  resumedFromChunk?: number;
  summary?: { [key: string]: JsonValue };
}

export async function produceArtifact(
  store: ArtifactStore,
  spec: ArtifactSpec,
  work: (writer: ArtifactWriter) => Promise<ProducedInfo | void>,
  producer?: Producer,
): Promise<ProduceResult> {
  const id = artifactId(spec);
  if (await store.has(id)) return { manifest: (await store.manifest(id))!, reused: true };
  const writer = await store.begin(id, { producer });
  const info = (await work(writer)) ?? {};
  return { manifest: await writer.commit({ ...spec, ...info, producer }), reused: false };
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
