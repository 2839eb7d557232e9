// Model-side heavy work (gpu queue): residual activations of every requested layer in one
// chunked, resumable pass, and SAE feature statistics per layer.
import { join } from 'node:path';
import { UserInputError } from '../pipelines/errors.ts';
import { extractActivations, readActivationChunks, readActivationIndex, type ChunkCursor } from '../pipelines/extract/index.ts';
import { INDEX_FILE } from '../pipelines/extract/layout.ts';
import { assertSaeMatchesWidth, FeatureStatsAccumulator, loadSae, writeFeatureStatsTable } from '../pipelines/sae/index.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { readTokenizedDocs } from './prepare.ts';
import { artifactFolder, localStore, manifestOf, produce, sourcePath } from './storeAccess.ts';
import type { ExtractInput, ExtractResult, FeatureStatsInput, FeatureStatsResult } from './types.ts';

export const STATS_FILE = 'stats.parquet';

export function extractSpec(input: ExtractInput) {
  const { layers, preset, pattern, batchSize, maxLength, chunkTokens } = input;
  const specialPositions = input.keepSpecialPositions ? 'keep' : 'exclude';
  return {
    stage: 'extract',
    codeVersion: codeVersionFor('extract'),
    params: { layers, ...(pattern !== undefined ? { pattern } : { preset }), batchSize, maxLength, chunkTokens, specialPositions },
    inputs: [input.modelId, input.tokenizerId, input.tokensId],
  };
}

/**
 * Extraction writes its chunks straight into the artifact's staging folder; a retried attempt
 * (after a killed worker, a timeout) finds them there and continues from the first missing chunk.
 * Each persisted chunk is heartbeated as the cursor; cancellation is honoured between chunks.
 */
export function extractActivity(store: ArtifactStore) {
  return (input: ExtractInput): Promise<ExtractResult> =>
    runActivity(async (progress) => {
      const local = localStore(store);
      const { manifest, reused } = await produce(store, extractSpec(input), async (writer) => {
        const result = await extractActivations({
          model: await sourcePath(store, input.modelId),
          tokenizerJson: await sourcePath(store, input.tokenizerId),
          tokens: await readTokenizedDocs(store, input.tokensId),
          layers: input.layers,
          preset: input.preset,
          ...(input.pattern !== undefined ? { pattern: input.pattern } : {}),
          batchSize: input.batchSize,
          maxLength: input.maxLength,
          chunkTokens: input.chunkTokens,
          keepSpecialPositions: input.keepSpecialPositions,
          outDir: local.stagingDir(writer.id),
          tapCacheDir: join(store.cacheDir, 'tapped-models'),
          onChunk: (cursor: ChunkCursor) => {
            progress.report(cursor);
            progress.checkCancelled();
          },
        });
        const widths: Record<string, number> = {};
        for (const l of result.index.layers) widths[String(l.layer)] = l.width;
        return {
          counts: {
            tokens: result.index.numTokens,
            specialPositions: result.index.numSpecialPositions,
            docs: result.index.numDocs,
            chunks: result.index.chunks.length,
            computedChunks: result.computedChunks,
          },
          ...(result.resumedChunks > 0 ? { resumedFromChunk: result.resumedChunks } : {}),
          summary: { widths, layers: input.layers },
        };
      });
      const summary = (manifest.summary ?? {}) as { widths?: Record<string, number> };
      return {
        id: manifest.id,
        reused,
        numTokens: manifest.counts.tokens ?? 0,
        specialPositions: manifest.counts.specialPositions ?? 0,
        numChunks: manifest.counts.chunks ?? 0,
        resumedFromChunk: manifest.resumedFromChunk ?? 0,
        widths: summary.widths ?? {},
      };
    });
}

export function featureStatsSpec(input: FeatureStatsInput) {
  return { stage: 'sae', codeVersion: codeVersionFor('sae'), params: { layer: input.layer, mode: input.mode, topK: 5 }, inputs: [input.extractId, input.saeId] };
}

/** One streaming pass over a layer's chunks: per-feature mean, std, frequency, max, top positions. */
export function featureStatsActivity(store: ArtifactStore) {
  return (input: FeatureStatsInput): Promise<FeatureStatsResult> =>
    runActivity(async (progress) => {
      const { manifest, reused } = await produce(store, featureStatsSpec(input), async (writer) => {
        const dir = await artifactFolder(store, input.extractId, INDEX_FILE);
        const index = await readActivationIndex(dir);
        const entry = index.layers.find((l) => l.layer === input.layer);
        if (!entry) throw new UserInputError(`layer ${input.layer} was not extracted`, dir);
        const sae = await loadSae(await sourcePath(store, input.saeId), { layer: input.layer });
        assertSaeMatchesWidth(sae, entry.width, (await manifestOf(store, input.modelId)).source?.path ?? input.modelId);
        const acc = new FeatureStatsAccumulator(sae, { mode: input.mode });
        let chunk = 0;
        for await (const m of readActivationChunks(dir, input.layer)) {
          await acc.add(m);
          progress.report({ chunk: chunk++, numChunks: index.chunks.length, tokensDone: acc.numTokens, totalTokens: index.numTokens });
          progress.checkCancelled();
        }
        const stats = acc.finish();
        await writer.writeWithPath(STATS_FILE, (tmp) => writeFeatureStatsTable(tmp, stats, { ufg_layer: String(input.layer) }));
        return { counts: { features: sae.numFeatures, tokens: stats.numTokens }, summary: { layer: input.layer, dIn: sae.dIn, numFeatures: sae.numFeatures, sae: sae.source.layout } };
      });
      const s = (manifest.summary ?? {}) as { dIn?: number; numFeatures?: number };
      return { id: manifest.id, reused, numFeatures: s.numFeatures ?? 0, dIn: s.dIn ?? 0 };
    });
}
