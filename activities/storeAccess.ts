// Store access shared by the activities: produce an artifact (reuse if complete, else compute in
// staging and commit, with the activity as producer), and find the files behind ids.
import { dirname } from 'node:path';
import { UserInputError, isUserInputError } from '../pipelines/errors.ts';
import { artifactId, type ArtifactSpec } from '../storage/artifactId.ts';
import type { Manifest } from '../storage/manifest.ts';
import { produceArtifact, type ProducedInfo, type ProduceResult } from '../storage/produce.ts';
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

export async function manifestOf(store: ArtifactStore, id: string): Promise<Manifest> {
  const m = await store.manifest(id);
  if (!m) throw new Error(`artifact ${id} is missing from store ${store.location} (was the store cleared mid-sweep?)`);
  return m;
}

/** The file or folder a source artifact was registered from. */
export async function sourcePath(store: ArtifactStore, id: string): Promise<string> {
  const m = await manifestOf(store, id);
  if (!m.source) throw new Error(`artifact ${id} is not a source`);
  return m.source.path;
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
