// Model-side heavy work (gpu queue): residual activations of every requested layer in one
// chunked, resumable pass, and SAE feature statistics per layer.
import { join } from 'node:path';
import { UserInputError } from '../pipelines/errors.ts';
import { extractActivations, readActivationChunks, readActivationIndex, type ChunkCursor } from '../pipelines/extract/index.ts';
import { INDEX_FILE } from '../pipelines/extract/layout.ts';
import { assertSaeMatchesWidth, FeatureStatsAccumulator, loadSae, writeFeatureStatsTable } from '../pipelines/sae/index.ts';
import { fitWarning, SaeFitAccumulator, type SaeFit, type SaeFitState } from '../pipelines/sae/fit.ts';
import type { FeatureStatsState } from '../pipelines/sae/featureStats.ts';
import { Checkpoint } from './checkpoint.ts';
import { currentDevice, type Device, releaseArenaSessions } from '../pipelines/kernels/session.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { readTokenizedDocs } from './prepare.ts';
import { artifactFolder, localStore, produce, readJsonArtifact, sourceAt } from './storeAccess.ts';
import type { ExtractInput, ExtractResult, FeatureStatsInput, FeatureStatsResult, StoredFit, WorkHeartbeat } from './types.ts';

export const STATS_FILE = 'stats.parquet';
export const FIT_FILE = 'fit.json';
export const STATS_CHECKPOINT = 'stats.checkpoint';

/**
 * The extraction's identity, including the device this worker runs ONNX Runtime on: CUDA kernels
 * do not reproduce the CPU's floats, so a GPU and a CPU extraction are different artifacts (and a
 * retry on a worker with the other device starts its own, rather than mixing chunks of both).
 */
export function extractSpec(input: Omit<ExtractInput, 'modelPath' | 'tokenizerPath'>, device: Device = currentDevice()) {
  const { layers, preset, pattern, batchSize, maxLength, chunkTokens } = input;
  const specialPositions = input.keepSpecialPositions ? 'keep' : 'exclude';
  return {
    stage: 'extract',
    codeVersion: codeVersionFor('extract'),
    params: { layers, ...(pattern !== undefined ? { pattern } : { preset }), batchSize, maxLength, chunkTokens, specialPositions, device },
    inputs: [input.modelId, input.tokenizerId, input.tokensId],
  };
}

/**
 * Extraction writes its chunks straight into its attempt's staging folder; a retried attempt
 * (after a killed worker, a timeout) starts with the chunks the earlier attempt persisted carried
 * into its own folder and continues from the first missing chunk.
 * Each persisted chunk is heartbeated as the cursor; cancellation is honoured between chunks.
 */
export function extractActivity(store: ArtifactStore) {
  return (input: ExtractInput): Promise<ExtractResult> =>
    runActivity(async (progress) => {
      const local = localStore(store);
      const device = currentDevice();
      const { manifest, reused } = await produce(store, extractSpec(input, device), async (writer) => {
        const result = await extractActivations({
          device,
          model: await sourceAt(store, input.modelId, input.modelPath),
          tokenizerJson: await sourceAt(store, input.tokenizerId, input.tokenizerPath),
          tokens: await readTokenizedDocs(store, input.tokensId),
          layers: input.layers,
          preset: input.preset,
          ...(input.pattern !== undefined ? { pattern: input.pattern } : {}),
          batchSize: input.batchSize,
          maxLength: input.maxLength,
          chunkTokens: input.chunkTokens,
          keepSpecialPositions: input.keepSpecialPositions,
          outDir: local.writerDir(writer),
          tapCacheDir: join(store.cacheDir, 'tapped-models'),
          onChunk: (cursor: ChunkCursor) => {
            progress.report({ ...cursor, unit: 'tokens', done: cursor.tokensDone, total: cursor.totalTokens } satisfies WorkHeartbeat & ChunkCursor);
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

export function featureStatsSpec(input: Pick<FeatureStatsInput, 'extractId' | 'saeId' | 'layer' | 'mode'>) {
  return { stage: 'sae', codeVersion: codeVersionFor('sae'), params: { layer: input.layer, mode: input.mode, topK: 5 }, inputs: [input.extractId, input.saeId] };
}

/**
 * One streaming pass over a layer's chunks: per-feature mean, std, frequency, max, top positions
 * (in the pairing's encode mode), and the SAE's fit on these activations (FVU, L0, dead features,
 * with its own activation). A poor fit is a warning, or an error under `strict`.
 */
export function featureStatsActivity(store: ArtifactStore) {
  return (input: FeatureStatsInput): Promise<FeatureStatsResult> =>
    runActivity(async (progress) => {
      // Its sessions' arenas are freed when it ends, not held under the stages after it.
      const { manifest, reused } = await produce(store, featureStatsSpec(input), async (writer) => {
        const dir = await artifactFolder(store, input.extractId, INDEX_FILE);
        const index = await readActivationIndex(dir);
        const entry = index.layers.find((l) => l.layer === input.layer);
        if (!entry) throw new UserInputError(`layer ${input.layer} was not extracted`, dir);
        const sae = await loadSae(await sourceAt(store, input.saeId, input.saePath));
        assertSaeMatchesWidth(sae, entry.width, input.modelPath);
        // Both accumulators' state after `chunks` chunks, saved now and then for a retry to resume.
        const checkpoint = new Checkpoint<{ chunks: number; stats: FeatureStatsState; fit: SaeFitState }>(writer, STATS_CHECKPOINT);
        const resume = await checkpoint.load();
        const acc = resume ? FeatureStatsAccumulator.restore(sae, { mode: input.mode }, resume.stats) : new FeatureStatsAccumulator(sae, { mode: input.mode });
        const fitAcc = new SaeFitAccumulator(sae, {}, resume?.fit);
        let chunk = 0;
        for await (const m of readActivationChunks(dir, input.layer)) {
          if (chunk++ < (resume?.chunks ?? 0)) continue;
          // A TopK SAE's thresholds come out of the statistics pass, sparing the fit an encoding.
          await fitAcc.add(m, await acc.add(m));
          progress.report({ layer: input.layer, chunk: chunk - 1, numChunks: index.chunks.length, unit: 'tokens', done: acc.numTokens, total: index.numTokens } satisfies WorkHeartbeat & { layer: number; chunk: number; numChunks: number });
          progress.checkCancelled();
          if (checkpoint.due() && chunk < index.chunks.length) checkpoint.save({ chunks: chunk, stats: acc.snapshot(), fit: fitAcc.snapshot() });
        }
        await checkpoint.finish();
        const stats = acc.finish();
        const fit = fitAcc.finish();
        await writer.writeWithPath(STATS_FILE, (tmp) => writeFeatureStatsTable(tmp, stats, { ufg_layer: String(input.layer) }));
        await writer.writeJson(FIT_FILE, finiteFit(fit));
        return {
          ...(resume ? { resumedFrom: { unit: 'chunks', done: resume.chunks, total: index.chunks.length } } : {}),
          counts: { features: sae.numFeatures, tokens: stats.numTokens },
          summary: { layer: input.layer, dIn: sae.dIn, numFeatures: sae.numFeatures, sae: sae.source.layout, fit: finiteFit(fit) },
        };
      }).finally(releaseArenaSessions);
      const s = (manifest.summary ?? {}) as { dIn?: number; numFeatures?: number; fit?: StoredFit };
      const fit = s.fit ?? { numTokens: 0, fvu: null, l0: null, deadFraction: null };
      const warning = fitWarning(fromStored(fit), `${input.model} layer ${input.layer} (SAE ${input.saePath})`);
      if (warning && input.strict) throw new UserInputError(`${warning} (strict)`);
      return { id: manifest.id, reused, numFeatures: s.numFeatures ?? 0, dIn: s.dIn ?? 0, fit, ...(warning ? { warning } : {}) };
    });
}

/** JSON has no NaN: an undefined fit value (no variance, no tokens) is stored as null. */
function finiteFit(f: SaeFit): StoredFit {
  const v = (x: number) => (Number.isFinite(x) ? x : null);
  return { numTokens: f.numTokens, fvu: v(f.fvu), l0: v(f.l0), deadFraction: v(f.deadFraction) };
}

function fromStored(f: StoredFit): SaeFit {
  return { numTokens: f.numTokens, fvu: f.fvu ?? Number.NaN, l0: f.l0 ?? Number.NaN, deadFraction: f.deadFraction ?? Number.NaN };
}

/** The SAE fit a feature-stats artifact holds. */
export function readFit(store: ArtifactStore, statsId: string): Promise<StoredFit> {
  return readJsonArtifact<StoredFit>(store, statsId, FIT_FILE);
}
