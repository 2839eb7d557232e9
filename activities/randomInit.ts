// The floor control's model (cpu queue): a randomly initialised copy of a sweep model's ONNX file
// (pipelines/model/randomInit.ts), a content-addressed artifact of the source model and the seed.
// Later stages read its model.onnx through the store (storeAccess.sourceAt accepts a produced
// artifact's own file), so the floor's extraction and everything after it trace back to it.
import { readFile } from 'node:fs/promises';
import { randomInitModel } from '../pipelines/model/randomInit.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { produce, sourceAt } from './storeAccess.ts';
import type { RandomInitInput, RandomInitResult } from './types.ts';

export const RANDOM_INIT_MODEL = 'model.onnx';

export function randomInitSpec(input: Pick<RandomInitInput, 'modelId' | 'seed'>) {
  return { stage: 'random-init', codeVersion: codeVersionFor('random-init'), params: { seed: input.seed }, inputs: [input.modelId] };
}

export function randomInitActivity(store: ArtifactStore) {
  return (input: RandomInitInput): Promise<RandomInitResult> =>
    runActivity(async () => {
      const { manifest, reused } = await produce(store, randomInitSpec(input), async (writer) => {
        const path = await sourceAt(store, input.modelId, input.modelPath);
        const copy = await randomInitModel(await readFile(path), path, input.seed);
        await writer.writeFile(RANDOM_INIT_MODEL, copy.bytes);
        return { counts: { tensors: copy.tensors, elements: copy.elements } };
      });
      return { id: manifest.id, reused, path: await store.localPath(manifest.id, RANDOM_INIT_MODEL), tensors: manifest.counts.tensors ?? 0 };
    });
}
