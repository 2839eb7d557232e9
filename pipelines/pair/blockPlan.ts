// How big the feature blocks and token chunks of a streaming correlation may be for a memory
// budget. A 32768 × 32768 f32 correlation matrix is 4 GiB, so it is only ever held in blocks:
// one row of A features (blockA of them) against every B feature at a time.
import { totalmem } from 'node:os';

export interface BlockPlan {
  blockA: number;
  blockB: number;
  tokenChunk: number;
}

/**
 * A quarter of the machine's memory, at most 4 GiB: room for one row's accumulators
 * (UFG_MEMORY_BUDGET_MB overrides it, e.g. on a worker that shares its machine).
 */
export const DEFAULT_MEMORY_BUDGET = Number(process.env.UFG_MEMORY_BUDGET_MB ?? 0) * 2 ** 20 || Math.min(4 * 2 ** 30, Math.floor(totalmem() / 4));
export const DEFAULT_TOKEN_CHUNK = 4096;
/**
 * For sources that compute their blocks (SAE encoding fused into the accumulation): 8192-token
 * chunks ran the 32k × 32k × 30k real path at 0.69–0.74 of GEMM. Dense in-memory matrices run
 * faster at 4096 (8192² pairing: 7.3–8.6 s against 9.6–11.4 s).
 */
export const COMPUTED_SOURCE_TOKEN_CHUNK = 8192;
/** Accumulators above 16M cells (64 MiB) measured slower per flop on CPU than two halves. */
export const MAX_BLOCK_CELLS = 1 << 24;
const PREFERRED_MIN_BLOCK = 1024;
/**
 * Rows of 8192 A features against 2048-wide B blocks ran at 0.69–0.74 of a plain GEMM in the
 * 32k × 32k × 30k bench; 16384 × 1024 at 0.59 (its accumulate GEMMs are slower, and the extra B
 * encoding of a narrower row is small since it is fused into the accumulation).
 */
const MAX_BLOCK_A = 8192;
/** Wider B blocks buy nothing (the GEMM is already large) and cost reduction temporaries. */
const MAX_BLOCK_B = 4096;
const MIN_TOKEN_CHUNK = 256;
const MIN_BLOCK = 64;

/**
 * Bytes alive while one row is processed: its accumulators (blockA × FB), one spare block and one
 * zero block (a row's first chunk starts from it); the A chunk with its shifted copy and the B
 * chunk with its shifted copy; ONNX Runtime's temporaries for a block reduction (~3 block-sized
 * buffers). A fixed ~150 MB for the runtime itself comes on top.
 */
export function rowBytes(plan: BlockPlan, numFeaturesB: number): number {
  const { blockA: a, blockB: b, tokenChunk: t } = plan;
  return 4 * (a * numFeaturesB + 5 * a * b + 3 * t * (a + b));
}

/**
 * The blocks and chunk for a budget. With SAE sources a B block's activations are recomputed once
 * per row, a fraction d_B / blockA of the row's work, so blockA stays large (up to MAX_BLOCK_A, as
 * the budget allows); B blocks keep one accumulator under MAX_BLOCK_CELLS. When the budget is
 * tight the token chunk shrinks first, then blockA, then B.
 */
export function planBlocks(
  numFeaturesA: number,
  numFeaturesB: number,
  numTokens: number,
  budgetBytes = DEFAULT_MEMORY_BUDGET,
  tokenChunk = DEFAULT_TOKEN_CHUNK,
): BlockPlan {
  const FA = Math.max(1, numFeaturesA), FB = Math.max(1, numFeaturesB);
  const plan = { blockA: Math.min(FA, MAX_BLOCK_A), blockB: 0, tokenChunk: Math.max(1, Math.min(numTokens, tokenChunk)) };
  const fitB = () => (plan.blockB = Math.min(FB, MAX_BLOCK_B, Math.max(PREFERRED_MIN_BLOCK, Math.floor(MAX_BLOCK_CELLS / plan.blockA))));
  fitB();
  const half = (x: number, floor: number) => Math.max(floor, Math.ceil(x / 2));
  while (rowBytes(plan, FB) > budgetBytes) {
    if (plan.tokenChunk > 2 * MIN_TOKEN_CHUNK && plan.tokenChunk > plan.blockA / 4) plan.tokenChunk = half(plan.tokenChunk, MIN_TOKEN_CHUNK);
    else if (plan.blockA > PREFERRED_MIN_BLOCK) plan.blockA = half(plan.blockA, PREFERRED_MIN_BLOCK), fitB();
    else if (plan.tokenChunk > MIN_TOKEN_CHUNK) plan.tokenChunk = half(plan.tokenChunk, MIN_TOKEN_CHUNK);
    else if (plan.blockA > MIN_BLOCK) plan.blockA = half(plan.blockA, MIN_BLOCK);
    else if (plan.blockB > MIN_BLOCK) plan.blockB = half(plan.blockB, MIN_BLOCK);
    else break; // the floor: budgets this small are not honoured further
  }
  return plan;
}
