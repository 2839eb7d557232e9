// Store access shared by the activities: produce an artifact (reuse if complete, else compute in
// staging and commit, with the activity as producer), find the files behind ids, and check that a
// source file still holds the content it was registered with before a stage reads it.
import { basename, dirname } from 'node:path';
import { UserInputError } from '../pipelines/errors.ts';
import { artifactId, type ArtifactSpec } from '../storage/artifactId.ts';
import { produceArtifact, type ProducedInfo, type ProduceResult } from '../storage/produce.ts';
import { hashSourcePath, sourceChanges, sourceSpec } from '../storage/sources.ts';
import { LocalDirStore, type ArtifactStore, type ArtifactWriter } from '../storage/store.ts';
import { activityProducer, activitySignal } from './context.ts';

/**
 * produceArtifact with the running activity as producer, waiting for a concurrent producer of the
 * same artifact (the other model's prep tokenizing a shared corpus) until the activity is
 * cancelled. Bad input leaves nothing of this attempt behind; other failures keep its files
 * staged for the retry to resume from.
 */
export function produce(
  store: ArtifactStore,
  spec: ArtifactSpec,
  work: (writer: ArtifactWriter) => Promise<ProducedInfo | void>,
): Promise<ProduceResult> {
  return produceArtifact(store, spec, work, { producer: activityProducer(), signal: activitySignal() });
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
  // A produced artifact standing in for a source (the floor's random-init model): its own file in
  // this store, immutable once committed (`ufg verify` re-hashes it), wherever the path came from.
  const m = await store.manifest(id);
  if (m && !m.source) return store.localPath(id, basename(path));
  const now = await hashSourcePath(path, store.cacheDir);
  if (artifactId(sourceSpec(now)) === id) return path;
  const registered = m?.source?.files;
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
