// How big the feature blocks and token chunks of a streaming correlation may be for a memory
// budget. A 32768 × 32768 f32 correlation matrix is 4 GiB, so it is only ever held in blocks.

export interface BlockPlan {
  blockA: number;
  blockB: number;
  tokenChunk: number;
}

export const DEFAULT_MEMORY_BUDGET = 1 << 30;
export const DEFAULT_TOKEN_CHUNK = 4096;
/** Accumulators above 16M cells (64 MiB) measured slower per flop on CPU than two halves. */
export const MAX_BLOCK_CELLS = 1 << 24;
const PREFERRED_MIN_BLOCK = 1024;
const MIN_TOKEN_CHUNK = 256;
const MIN_BLOCK = 64;

/**
 * Bytes alive while one block pair is processed, calibrated against measured peak RSS on CPU:
 * two accumulators and ONNX Runtime's temporaries for the block reduction (~8 block-sized f32
 * buffers counting its arena's growth), the chunks and their shifted and squared copies (~4 each).
 * A fixed ~150 MB for the runtime itself comes on top.
 */
export function blockPairBytes(blockA: number, blockB: number, tokenChunk: number): number {
  return 4 * (8 * blockA * blockB + 4 * tokenChunk * (blockA + blockB));
}

/**
 * The blocks and chunk for a budget. The A block (outer loop) shrinks first, so B chunks stay
 * full width (one contiguous read each) as long as possible; then B; then the token chunk;
 * below 1024 features both sides shrink together down to a floor that is not crossed.
 */
export function planBlocks(
  numFeaturesA: number,
  numFeaturesB: number,
  numTokens: number,
  budgetBytes = DEFAULT_MEMORY_BUDGET,
  tokenChunk = DEFAULT_TOKEN_CHUNK,
): BlockPlan {
  let a = Math.max(1, numFeaturesA), b = Math.max(1, numFeaturesB);
  let t = Math.max(1, Math.min(numTokens, tokenChunk));
  const half = (x: number, floor: number) => Math.max(floor, Math.ceil(x / 2));
  while (blockPairBytes(a, b, t) > budgetBytes || a * b > MAX_BLOCK_CELLS) {
    if (a > PREFERRED_MIN_BLOCK) a = half(a, PREFERRED_MIN_BLOCK);
    else if (b > PREFERRED_MIN_BLOCK) b = half(b, PREFERRED_MIN_BLOCK);
    else if (t > MIN_TOKEN_CHUNK) t = half(t, MIN_TOKEN_CHUNK);
    else if (a > MIN_BLOCK && a >= b) a = half(a, MIN_BLOCK);
    else if (b > MIN_BLOCK) b = half(b, MIN_BLOCK);
    else break; // the floor: budgets this small are not honoured further
  }
  return { blockA: a, blockB: b, tokenChunk: t };
}
