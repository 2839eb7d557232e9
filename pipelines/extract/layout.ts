// On-disk layout of an extraction (one directory):
//   plan.json             written first: parameters' fingerprint + the chunk plan (resume checks it)
//   chunk-000000.arrow …  Arrow IPC files, each written atomically; ONE FILE PER CHUNK holding all
//                         layers: int32 columns token_id, doc_id, position and one
//                         fixed-size-list<float32>[d] column `layer_<i>` per requested layer
//                         (one forward pass yields every layer, so they are written together);
//                         one row per written position (not padding, not an excluded special
//                         token such as BOS), `position` its place in the document as the model saw it
//   index.json            written last: the complete chunk list; its presence = extraction done
// Chunks are runs of whole batches closed once they hold ≥ chunkTokens written tokens, so
// boundaries depend only on the tokenised corpus, the excluded special ids and (batchSize,
// maxLength, chunkTokens).

export const ACTIVATIONS_FORMAT = 'ufg-activations/1';
export const PLAN_FILE = 'plan.json';
export const INDEX_FILE = 'index.json';

export function chunkFileName(i: number): string {
  return `chunk-${String(i).padStart(6, '0')}.arrow`;
}

export function layerColumn(layer: number): string {
  return `layer_${layer}`;
}

export interface ChunkPlan {
  file: string;
  firstBatch: number;
  numBatches: number;
  /** Index of the chunk's first token in the whole extraction. */
  firstToken: number;
  numTokens: number;
}

export interface LayerEntry {
  layer: number;
  /** The graph tensor tapped for this layer. */
  tensor: string;
  column: string;
  width: number;
}

export interface ActivationIndex {
  format: typeof ACTIVATIONS_FORMAT;
  model: string;
  modelSha256: string;
  tokenizer: string;
  tokenizerSha256: string;
  preset: string | null;
  pattern: string | null;
  layers: LayerEntry[];
  numDocs: number;
  /** Rows written (positions that are neither padding nor excluded special tokens). */
  numTokens: number;
  /** `exclude`: positions holding a special token (BOS, EOS, pad …) were fed to the model but not written. */
  specialPositions: SpecialPositions;
  /** Real positions not written because they hold a special token (0 under `keep`). */
  numSpecialPositions: number;
  batchSize: number;
  maxLength: number;
  chunkTokens: number;
  fingerprint: string;
  chunks: ChunkPlan[];
}

export type SpecialPositions = 'exclude' | 'keep';

export function planChunks(batchTokens: readonly number[], chunkTokens: number): ChunkPlan[] {
  const chunks: ChunkPlan[] = [];
  let first = 0;
  let tokens = 0;
  let firstToken = 0;
  batchTokens.forEach((n, b) => {
    tokens += n;
    if (tokens >= chunkTokens || b === batchTokens.length - 1) {
      chunks.push({ file: chunkFileName(chunks.length), firstBatch: first, numBatches: b - first + 1, firstToken, numTokens: tokens });
      firstToken += tokens;
      first = b + 1;
      tokens = 0;
    }
  });
  // Trailing batches without a written token (all special) join the chunk before them.
  const last = chunks.at(-1);
  if (last && last.numTokens === 0 && chunks.length > 1) {
    chunks.pop();
    chunks.at(-1)!.numBatches += last.numBatches;
  }
  return chunks;
}
