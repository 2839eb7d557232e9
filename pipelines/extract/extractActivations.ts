// Residual-stream activations of a corpus, for the requested layers, written as Arrow chunks
// (layout.ts). One forward pass per batch yields every layer. Padding positions are never
// written. Resumable: chunk boundaries are a pure function of the tokenised corpus and the
// parameters, so a restart skips every chunk file already on disk (each is written atomically)
// and recomputes from the first missing one, reproducing the same numbers.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256Bytes, writeJsonAtomic } from '../../storage/atomic.ts';
import { readArrowChunk, writeArrowChunk, type ArrowColumn } from '../../storage/arrow.ts';
import { UserInputError } from '../errors.ts';
import { cachedSession, configureKernels, type Device } from '../kernels/session.ts';
import { describeIo, loadOnnxModel } from '../model/loadOnnx.ts';
import { resolveTaps, type PresetName, type Tap } from '../model/presets.ts';
import { tapModel } from '../model/tap.ts';
import { makeBatches, tokenizeDocs, type Batch, type TokenizedDoc } from '../tokenize/batches.ts';
import { loadTokenizer } from '../tokenize/loadTokenizer.ts';
import { batchFeeds, gatherValid, outputValues } from './forward.ts';
import { ACTIVATIONS_FORMAT, INDEX_FILE, layerColumn, PLAN_FILE, planChunks, type ActivationIndex, type ChunkPlan, type LayerEntry } from './layout.ts';

type Session = Awaited<ReturnType<typeof cachedSession>>;

export interface ExtractOptions {
  /** ONNX model file. */
  model: string;
  /** The model's tokenizer.json. */
  tokenizerJson: string;
  /** Corpus documents (tokenised here), or `tokens` already tokenised with the same tokenizer. */
  docs?: readonly string[];
  tokens?: readonly TokenizedDoc[];
  /** hidden_states indices: 0 = embeddings, i = output of block i-1 (see model/presets.ts). */
  layers: readonly number[];
  preset?: PresetName;
  /** Custom tensor-name pattern with `{layer}` (and optional `*`); overrides preset. */
  pattern?: string;
  batchSize?: number;
  maxLength?: number;
  chunkTokens?: number;
  outDir: string;
  device?: Device;
  /** Where tapped models are cached (content-addressed); default `.ufg/tapped-models`. */
  tapCacheDir?: string;
  /** Called after each chunk is persisted (heartbeat the cursor from here). */
  onChunk?: (cursor: ChunkCursor) => void | Promise<void>;
}

export interface ChunkCursor {
  /** Index of the chunk just written. */
  chunk: number;
  numChunks: number;
  /** Tokens persisted so far, including chunks found on disk at start. */
  tokensDone: number;
  totalTokens: number;
}

export interface ExtractResult {
  outDir: string;
  index: ActivationIndex;
  /** Chunks found complete on disk and skipped. */
  resumedChunks: number;
  /** Chunks computed in this call. */
  computedChunks: number;
}

export async function extractActivations(opts: ExtractOptions): Promise<ExtractResult> {
  const batchSize = opts.batchSize ?? 8;
  const maxLength = opts.maxLength ?? 128;
  const chunkTokens = opts.chunkTokens ?? 4096;
  for (const [name, v] of Object.entries({ batchSize, maxLength, chunkTokens })) {
    if (!Number.isInteger(v) || v <= 0) throw new UserInputError(`${name} must be a positive integer, got ${v}`);
  }
  if (opts.device) configureKernels({ device: opts.device });

  const tokenizer = await loadTokenizer(opts.tokenizerJson);
  const tokens = opts.tokens ?? tokenizeDocs(tokenizer, opts.docs ?? [], maxLength);
  const numDocs = opts.docs?.length ?? new Set(tokens.map((t) => t.docId)).size;
  if (tokens.length === 0) throw new UserInputError('corpus is empty: no document yields any token');
  if (new Set(opts.layers).size !== opts.layers.length) throw new UserInputError(`layers listed twice: ${opts.layers.join(', ')}`);
  const batches = makeBatches(tokens, batchSize, tokenizer.padId);
  const chunks = planChunks(batches.map((b) => b.numTokens), chunkTokens);
  const totalTokens = batches.reduce((n, b) => n + b.numTokens, 0);

  const model = await loadOnnxModel(opts.model);
  const taps = resolveTaps(model.proto.graph!, { preset: opts.preset, pattern: opts.pattern }, opts.layers, opts.model);
  const tapped = await tapModel(model, taps, opts.tapCacheDir ?? resolve('.ufg', 'tapped-models'));
  const inputs = describeIo(model.proto.graph!.input).filter((i) => !(model.proto.graph!.initializer ?? []).some((t) => t.name === i.name));

  const fingerprint = sha256Bytes(
    JSON.stringify({
      model: tapped.modelSha256,
      tokenizer: tokenizer.sha256,
      taps,
      batchSize,
      maxLength,
      chunkTokens,
      tokens: tokensDigest(tokens),
    }),
  );
  const planPath = join(opts.outDir, PLAN_FILE);
  if (existsSync(planPath)) {
    const previous = JSON.parse(await readFile(planPath, 'utf8')) as { fingerprint?: string };
    if (previous.fingerprint !== fingerprint) {
      throw new UserInputError(`holds an extraction with different inputs or parameters; use a fresh output directory`, opts.outDir);
    }
  } else {
    await writeJsonAtomic(planPath, { format: ACTIVATIONS_FORMAT, fingerprint, chunks });
  }

  // Created on first need, so a finished extraction re-run costs no session.
  let session: Session | undefined;
  const widths = new Map<string, number>();
  let resumedChunks = 0;
  let computedChunks = 0;
  let tokensDone = 0;
  // The write (with its fsyncs) and the onChunk callback of chunk c overlap the forward passes of
  // chunk c+1; at most one write is in flight, and a failed write or callback stops the run
  // before any later chunk is written.
  let inFlight: Promise<void> | undefined;
  for (let c = 0; c < chunks.length; c++) {
    const plan = chunks[c]!;
    const file = join(opts.outDir, plan.file);
    if (existsSync(file)) {
      if (widths.size === 0) for (const [tensor, width] of await widthsOnDisk(file, taps)) widths.set(tensor, width);
      resumedChunks++;
      tokensDone += plan.numTokens;
      continue;
    }
    session ??= await cachedSession(`extract:${tapped.path}`, () => readFileSync(tapped.path));
    const columns = await computeChunk(plan, batches, session, inputs, taps, opts.model, widths);
    await inFlight;
    inFlight = (async () => {
      await writeArrowChunk(file, columns, { format: ACTIVATIONS_FORMAT, fingerprint });
      computedChunks++;
      tokensDone += plan.numTokens;
      await opts.onChunk?.({ chunk: c, numChunks: chunks.length, tokensDone, totalTokens });
    })();
    inFlight.catch(() => {}); // observed by the next `await inFlight`; avoids an unhandled rejection meanwhile
  }
  await inFlight;

  const layers: LayerEntry[] = taps.map((t) => ({ layer: t.layer, tensor: t.tensor, column: layerColumn(t.layer), width: widths.get(t.tensor)! }));
  const index: ActivationIndex = {
    format: ACTIVATIONS_FORMAT,
    model: opts.model,
    modelSha256: tapped.modelSha256,
    tokenizer: opts.tokenizerJson,
    tokenizerSha256: tokenizer.sha256,
    preset: opts.pattern !== undefined ? null : (opts.preset ?? 'gpt-neox'),
    pattern: opts.pattern ?? null,
    layers,
    numDocs,
    numTokens: totalTokens,
    batchSize,
    maxLength,
    chunkTokens,
    fingerprint,
    chunks,
  };
  await writeJsonAtomic(join(opts.outDir, INDEX_FILE), index);
  return { outDir: opts.outDir, index, resumedChunks, computedChunks };
}

async function computeChunk(
  plan: ChunkPlan,
  batches: readonly Batch[],
  session: Session,
  inputs: ReturnType<typeof describeIo>,
  taps: readonly Tap[],
  modelPath: string,
  widths: Map<string, number>,
): Promise<ArrowColumn[]> {
  const n = plan.numTokens;
  const tokenId = new Int32Array(n);
  const docId = new Int32Array(n);
  const position = new Int32Array(n);
  const acts = new Map<string, Float32Array>();
  const tensors = [...new Set(taps.map((t) => t.tensor))];
  let row = 0;
  for (let b = plan.firstBatch; b < plan.firstBatch + plan.numBatches; b++) {
    const batch = batches[b]!;
    const out = await session.run(batchFeeds(batch, inputs, modelPath), tensors);
    for (const name of tensors) {
      const { data, width } = outputValues(out[name]!, name, modelPath);
      widths.set(name, width);
      let dest = acts.get(name);
      if (!dest) acts.set(name, (dest = new Float32Array(n * width)));
      gatherValid(data, width, batch, dest, row, name, modelPath);
    }
    for (let r = 0; r < batch.rows; r++) {
      for (let p = 0; p < batch.lengths[r]!; p++) {
        tokenId[row] = Number(batch.inputIds[r * batch.seqLen + p]);
        docId[row] = batch.docIds[r]!;
        position[row] = p;
        row++;
      }
    }
  }
  const columns: ArrowColumn[] = [
    { name: 'token_id', kind: 'int32', data: tokenId },
    { name: 'doc_id', kind: 'int32', data: docId },
    { name: 'position', kind: 'int32', data: position },
  ];
  for (const t of taps) columns.push({ name: layerColumn(t.layer), kind: 'f32list', width: widths.get(t.tensor)!, data: acts.get(t.tensor)! });
  return columns;
}

async function widthsOnDisk(file: string, taps: readonly Tap[]): Promise<Map<string, number>> {
  const chunk = await readArrowChunk(file);
  const out = new Map<string, number>();
  for (const t of taps) {
    const col = chunk.columns.get(layerColumn(t.layer));
    if (!col || col.kind !== 'f32list') throw new UserInputError(`chunk lacks column ${layerColumn(t.layer)}; use a fresh output directory`, file);
    out.set(t.tensor, col.width);
  }
  return out;
}

/** sha256 of doc ids and token ids, so a resumed run refuses a different corpus. */
function tokensDigest(tokens: readonly TokenizedDoc[]): string {
  const parts: number[] = [];
  for (const t of tokens) parts.push(t.docId, t.ids.length, ...t.ids);
  return sha256Bytes(new Uint8Array(Int32Array.from(parts).buffer));
}
