// Residual-stream activations of a corpus, for the requested layers, written as Arrow chunks
// (layout.ts). One forward pass per batch yields every layer. The model sees each document as
// its tokenizer encodes it (BOS included where the tokenizer adds one), but padding positions are
// never written, and special-token positions (BOS, EOS, pad, specials typed in the text) are not
// either unless `keepSpecialPositions`: they take no part in pairing, statistics or labels, as
// in SAELens. Resumable: chunk boundaries are a pure function of the tokenised corpus and the
// parameters, so a restart skips every chunk file already on disk (each is written atomically)
// and recomputes from the first missing one, reproducing the same numbers.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256Bytes, writeJsonAtomic } from '../../storage/atomic.ts';
import { readArrowChunk, type ArrowColumn } from '../../storage/arrow.ts';
import { UserInputError } from '../errors.ts';
import { cachedSession, configureKernels, type Device } from '../kernels/session.ts';
import { describeIo, loadOnnxModel } from '../model/loadOnnx.ts';
import { resolveTaps, type PresetName, type Tap } from '../model/presets.ts';
import { tapModel } from '../model/tap.ts';
import { makeBatches, tokenizeDocs, type Batch, type TokenizedDoc } from '../tokenize/batches.ts';
import { loadTokenizer } from '../tokenize/loadTokenizer.ts';
import { ChunkWriter } from './chunkWriter.ts';
import { batchFeeds, forEachWrittenRun, gatherValid, outputValues } from './forward.ts';
import { ACTIVATIONS_FORMAT, INDEX_FILE, layerColumn, PLAN_FILE, planChunks, type ActivationIndex, type ChunkPlan, type LayerEntry, type SpecialPositions } from './layout.ts';

type Session = Awaited<ReturnType<typeof cachedSession>>;

export interface ExtractOptions {
  /** ONNX model file. */
  model: string;
  /** The model's tokenizer.json. */
  tokenizerJson: string;
  /** Tokenizing `docs`: add the post-processor's special tokens (default: true, as Hugging Face). */
  addSpecialTokens?: boolean;
  /** Also write the positions of special tokens (default: they are fed to the model, not written). */
  keepSpecialPositions?: boolean;
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

  const tokenizer = await loadTokenizer(opts.tokenizerJson, opts.addSpecialTokens !== undefined ? { addSpecialTokens: opts.addSpecialTokens } : {});
  const tokens = opts.tokens ?? tokenizeDocs(tokenizer, opts.docs ?? [], maxLength);
  const numDocs = opts.docs?.length ?? new Set(tokens.map((t) => t.docId)).size;
  if (tokens.length === 0) throw new UserInputError('corpus is empty: no document yields any token');
  if (new Set(opts.layers).size !== opts.layers.length) throw new UserInputError(`layers listed twice: ${opts.layers.join(', ')}`);
  const specialPositions: SpecialPositions = opts.keepSpecialPositions ? 'keep' : 'exclude';
  const batches = makeBatches(tokens, batchSize, tokenizer.padId, specialPositions === 'keep' ? new Set() : tokenizer.specialIds);
  const chunks = planChunks(batches.map((b) => b.numTokens), chunkTokens);
  const totalTokens = batches.reduce((n, b) => n + b.numTokens, 0);
  const numSpecialPositions = batches.reduce((n, b) => n + b.numSpecial, 0);
  if (totalTokens === 0) throw new UserInputError(`corpus has no token to extract: all ${numSpecialPositions} positions hold special tokens`, opts.tokenizerJson);

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
      specialPositions,
      tokens: tokensDigest(tokens),
    }),
  );
  const planPath = join(opts.outDir, PLAN_FILE);
  // A new plan is written while the first chunk computes; the writer lands it before any chunk.
  let planWritten: Promise<void> | undefined;
  if (existsSync(planPath)) {
    const previous = JSON.parse(await readFile(planPath, 'utf8')) as { fingerprint?: string };
    if (previous.fingerprint !== fingerprint) {
      throw new UserInputError(`holds an extraction with different inputs or parameters; use a fresh output directory`, opts.outDir);
    }
  } else {
    planWritten = writeJsonAtomic(planPath, { format: ACTIVATIONS_FORMAT, fingerprint, chunks });
  }

  // Created on first need, so a finished extraction re-run costs no session.
  let session: Session | undefined;
  const widths = new Map<string, number>();
  let resumedChunks = 0;
  let computedChunks = 0;
  let tokensDone = 0;
  let chunksStarted = 0;
  // Chunk c is written (and onChunk called) while chunk c+1 computes; see chunkWriter.ts.
  const writer = new ChunkWriter(opts.outDir, planWritten);
  // Two sets, alternating: the writer reads chunk c's set in place while c+1 fills the other.
  const maxChunk = chunks.reduce((m, c) => Math.max(m, c.numTokens), 0);
  const buffers = [new ChunkBuffers(maxChunk), new ChunkBuffers(maxChunk)] as const;
  let index: ActivationIndex;
  try {
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
      const columns = await computeChunk(plan, batches, session, inputs, taps, opts.model, widths, buffers[chunksStarted++ & 1]);
      await writer.write(file, columns, { format: ACTIVATIONS_FORMAT, fingerprint }, async () => {
        computedChunks++;
        tokensDone += plan.numTokens;
        await opts.onChunk?.({ chunk: c, numChunks: chunks.length, tokensDone, totalTokens });
      });
    }
    const layers: LayerEntry[] = taps.map((t) => ({ layer: t.layer, tensor: t.tensor, column: layerColumn(t.layer), width: widths.get(t.tensor)! }));
    index = {
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
      specialPositions,
      numSpecialPositions,
      batchSize,
      maxLength,
      chunkTokens,
      fingerprint,
      chunks,
    };
    // The index (its presence = extraction complete) goes in only after every chunk is durable.
    await writer.finish({ path: join(opts.outDir, INDEX_FILE), bytes: new TextEncoder().encode(JSON.stringify(index, null, 2) + '\n') });
  } catch (e) {
    await writer.abandon(); // no write outlives the call
    throw e;
  }

  return { outDir: opts.outDir, index, resumedChunks, computedChunks };
}

/**
 * One chunk's columns (per tapped tensor, plus token id/doc/position), sized for the largest chunk
 * and reused: the writer reads them in place until the chunk after next starts (see the two sets
 * in extractActivations), so nothing is allocated or copied per chunk.
 */
class ChunkBuffers {
  readonly tokenId: Int32Array;
  readonly docId: Int32Array;
  readonly position: Int32Array;
  private readonly acts = new Map<string, Float32Array>();

  constructor(private readonly maxTokens: number) {
    this.tokenId = new Int32Array(maxTokens);
    this.docId = new Int32Array(maxTokens);
    this.position = new Int32Array(maxTokens);
  }

  activations(tensor: string, width: number): Float32Array {
    let a = this.acts.get(tensor);
    if (!a || a.length !== this.maxTokens * width) this.acts.set(tensor, (a = new Float32Array(this.maxTokens * width)));
    return a;
  }
}

async function computeChunk(
  plan: ChunkPlan,
  batches: readonly Batch[],
  session: Session,
  inputs: ReturnType<typeof describeIo>,
  taps: readonly Tap[],
  modelPath: string,
  widths: Map<string, number>,
  buffers: ChunkBuffers,
): Promise<ArrowColumn[]> {
  const n = plan.numTokens;
  const { tokenId, docId, position } = buffers;
  const tensors = [...new Set(taps.map((t) => t.tensor))];
  let row = 0;
  for (let b = plan.firstBatch; b < plan.firstBatch + plan.numBatches; b++) {
    const batch = batches[b]!;
    if (batch.numTokens === 0 && widths.size === tensors.length) continue; // nothing to write
    const out = await session.run(batchFeeds(batch, inputs, modelPath), tensors);
    for (const name of tensors) {
      const { data, width } = outputValues(out[name]!, name, modelPath);
      widths.set(name, width);
      gatherValid(data, width, batch, buffers.activations(name, width), row, name, modelPath);
    }
    const ids = lowWords(batch.inputIds);
    forEachWrittenRun(batch, (r, p0, p1) => {
      const doc = batch.docIds[r]!;
      for (let p = p0, at = r * batch.seqLen + p0; p < p1; p++, at++) {
        tokenId[row] = ids ? ids[2 * at]! : Number(batch.inputIds[at]);
        docId[row] = doc;
        position[row] = p;
        row++;
      }
    });
  }
  const columns: ArrowColumn[] = [
    { name: 'token_id', kind: 'int32', data: tokenId.subarray(0, n) },
    { name: 'doc_id', kind: 'int32', data: docId.subarray(0, n) },
    { name: 'position', kind: 'int32', data: position.subarray(0, n) },
  ];
  for (const t of taps) {
    const width = widths.get(t.tensor)!;
    columns.push({ name: layerColumn(t.layer), kind: 'f32list', width, data: buffers.activations(t.tensor, width).subarray(0, n * width) });
  }
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

/**
 * The int64 token ids as an int32 view whose even entries are their low words (ids are small and
 * non-negative), read without creating a BigInt per token; undefined on a big-endian machine.
 */
function lowWords(ids: BigInt64Array): Int32Array | undefined {
  return LITTLE_ENDIAN ? new Int32Array(ids.buffer, ids.byteOffset, ids.length * 2) : undefined;
}
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * sha256 of doc ids and token ids, so a resumed run refuses a different corpus: the int32 stream
 * docId, length, ids… per document (fed piecewise; the bytes, and so the digest, are those that
 * plans already on disk were fingerprinted with).
 */
function tokensDigest(tokens: readonly TokenizedDoc[]): string {
  const hash = createHash('sha256');
  const head = new Int32Array(2);
  for (const t of tokens) {
    head[0] = t.docId;
    head[1] = t.ids.length;
    hash.update(new Uint8Array(head.buffer));
    hash.update(new Uint8Array(t.ids.buffer, t.ids.byteOffset, t.ids.byteLength));
  }
  return hash.digest('hex');
}
