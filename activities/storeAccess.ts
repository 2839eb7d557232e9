// Store access shared by the activities: produce an artifact (reuse if complete, else compute in
// staging and commit, with the activity as producer), and find the files behind ids.
import { dirname } from 'node:path';
import { UserInputError } from '../pipelines/errors.ts';
import type { ArtifactSpec } from '../storage/artifactId.ts';
import type { Manifest } from '../storage/manifest.ts';
import { produceArtifact, type ProducedInfo, type ProduceResult } from '../storage/produce.ts';
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
