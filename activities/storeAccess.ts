// Store access shared by the activities: produce an artifact (reuse if complete, else compute in
// staging and commit, with the activity as producer), find the files behind ids, and check that a
// source file still holds the content it was registered with before a stage reads it.
import { dirname } from 'node:path';
import { UserInputError, isUserInputError } from '../pipelines/errors.ts';
import { artifactId, type ArtifactSpec } from '../storage/artifactId.ts';
import { produceArtifact, type ProducedInfo, type ProduceResult } from '../storage/produce.ts';
import { hashSourcePath, sourceChanges, sourceSpec } from '../storage/sources.ts';
import { LocalDirStore, type ArtifactStore, type ArtifactWriter } from '../storage/store.ts';
import { activityProducer } from './context.ts';

/**
 * produceArtifact with the running activity as producer. Bad input leaves nothing behind: the
 * staging area is dropped, so no half-made artifact of a failing stage lingers.
 */
export async function produce(
  store: ArtifactStore,
  spec: ArtifactSpec,
  work: (writer: ArtifactWriter) => Promise<ProducedInfo | void>,
): Promise<ProduceResult> {
  let writerId: string | undefined;
  try {
    return await produceArtifact(
      store,
      spec,
      (writer) => {
        writerId = writer.id;
        return work(writer);
      },
      activityProducer(),
    );
  } catch (e) {
    if (isUserInputError(e) && writerId) await store.abandon(writerId);
    // Two producers of one artifact (both models tokenizing a shared corpus with a shared
    // tokenizer): the loser's staging area is taken by the winner's commit mid-write. The
    // published artifact is the same content, so use it instead of failing the attempt.
    const id = writerId ?? artifactId(spec);
    if (!isUserInputError(e) && (await awaitPublished(store, id))) return { manifest: (await store.manifest(id))!, reused: true };
    throw e;
  }
}

/**
 * After a failed write of `id`: whether another writer publishes it within `waitMs`. Two producers
 * of one artifact race (both models register the shared corpus and tokenizer at once); the loser
 * fails while the winner is still hashing its files, so look for the winner's commit a little while
 * before failing the attempt (a retry would then count that side's own earlier work as reused).
 */
export async function awaitPublished(store: ArtifactStore, id: string, waitMs = 5000): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    if (await store.has(id)) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The file or folder a stage reads for source artifact `id`: `path`, as the sweep's current config
 * names it (not the path the same content was first registered from, which may be another
 * sweep's, moved or deleted since), after checking that it still holds the registered content —
 * file names, sizes and sha256, through the hash cache keyed by path, size and mtime. A file
 * changed since the sweep registered it is bad input (non-retryable), named in one line: its
 * artifacts so far were computed from the old content.
 */
export async function sourceAt(store: ArtifactStore, id: string, path: string): Promise<string> {
  const now = await hashSourcePath(path, store.cacheDir);
  if (artifactId(sourceSpec(now)) === id) return path;
  const registered = (await store.manifest(id))?.source?.files;
  const what = registered ? sourceChanges(registered, now).join('; ') : 'its content differs';
  throw new UserInputError(
    `changed since this sweep registered it as ${id} (${what}); restore it, or run \`ufg sweep resume <sweep id>\` to register the new content and recompute what depends on it`,
    path,
  );
}

/** Directory-shaped stages (extraction) need the artifact's folder on local disk. */
export function localStore(store: ArtifactStore): LocalDirStore {
  if (!(store instanceof LocalDirStore)) throw new UserInputError(`this stage needs a local directory store, got ${store.location}`);
  return store;
}

export async function artifactFolder(store: ArtifactStore, id: string, someFile: string): Promise<string> {
  return dirname(await store.localPath(id, someFile));
}

export async function readJsonArtifact<T>(store: ArtifactStore, id: string, name: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await store.readFile(id, name))) as T;
}
