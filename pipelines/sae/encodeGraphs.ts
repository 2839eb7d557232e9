// ONNX graphs for SAE encoding. Two families:
//  - whole-SAE graphs with the weights baked in as initializers (one cached session per SAE and
//    mode), used to encode batches of tokens into all F features;
//  - block graphs that take a slice of the weights as inputs, so one cached session serves every
//    feature block of every SAE of a shape class (pairing and statistics recompute activations
//    block by block instead of holding tokens × features).
import { GraphBuilder } from '../kernels/onnxGraph.ts';
import type { EncodeMode, Sae } from './types.ts';

/** Appends z = (x − b_dec?) · Wᵀ + b_enc and pre = ReLU(z); returns [z, pre]. */
function affine(g: GraphBuilder, x: string, w: string, b: string, bDec: string | undefined): [string, string] {
  const xc = bDec ? g.node('Sub', [x, bDec]) : x;
  const z = g.node('Gemm', [xc, w, b], 1, { transB: 1 });
  return [z, g.node('Relu', [z])];
}

/** Whole-SAE encoder: X [T, d] → A [T, F]. */
export function saeEncoderGraph(sae: Sae, mode: EncodeMode): Uint8Array {
  const g = new GraphBuilder('sae_encode');
  const F = sae.numFeatures;
  const d = sae.dIn;
  g.input('X', 'float32', ['T', d]);
  const w = g.initializer('W', { dtype: 'float32', dims: [F, d], data: sae.wEnc });
  const b = g.initializer('b', { dtype: 'float32', dims: [F], data: sae.bEnc });
  const bDec = sae.subtractDecoderBias ? g.initializer('b_dec', { dtype: 'float32', dims: [d], data: sae.bDec }) : undefined;
  const [z, pre] = affine(g, 'X', w, b, bDec);
  const act = sae.activation;
  if (mode === 'pre' || act.kind === 'relu') {
    g.node('Identity', [pre], ['A']);
  } else if (act.kind === 'jumprelu') {
    const theta = g.initializer('theta', { dtype: 'float32', dims: [F], data: act.threshold });
    const keep = g.node('Greater', [z, theta]);
    g.node('Where', [keep, pre, g.float(0)], ['A']);
  } else {
    // Exactly k per token (as sparsify's torch.topk): scatter the k largest into zeros.
    g.node('TopK', [pre, g.int64s([act.k])], ['vals', 'idx'], { axis: -1, largest: 1, sorted: 0 });
    const zeros = g.node('ConstantOfShape', [g.node('Shape', [pre])], 1, {
      value: { tensor: { dtype: 'float32', dims: [1], data: Float32Array.of(0) } },
    });
    g.node('ScatterElements', [zeros, 'idx', 'vals'], ['A'], { axis: 1 });
  }
  g.output('A', 'float32', ['T', F]);
  return g.build();
}

/**
 * How a block's activations are sparsified:
 *  - 'pre' / 'relu': ReLU only;
 *  - 'jumprelu': extra input theta [Fb];
 *  - 'threshold': extra input thr [T, 1], the per-token k-th largest pre-activation over ALL
 *    features (TopK applied block-wise; see encodeBlock.ts).
 */
export type BlockKind = 'pre' | 'jumprelu' | 'threshold';

function blockInputs(g: GraphBuilder, kind: BlockKind, subtract: boolean): string {
  g.input('X', 'float32', ['T', 'd']);
  g.input('W', 'float32', ['Fb', 'd']);
  g.input('b', 'float32', ['Fb']);
  if (subtract) g.input('b_dec', 'float32', ['d']);
  const [z, pre] = affine(g, 'X', 'W', 'b', subtract ? 'b_dec' : undefined);
  if (kind === 'pre') return pre;
  if (kind === 'jumprelu') {
    g.input('theta', 'float32', ['Fb']);
    return g.node('Where', [g.node('Greater', [z, 'theta']), pre, g.float(0)]);
  }
  g.input('thr', 'float32', ['T', 1]);
  return g.node('Where', [g.node('GreaterOrEqual', [pre, 'thr']), pre, g.float(0)]);
}

/** Block encoder: X [T, d], W [Fb, d], b [Fb] (…) → A [T, Fb]. */
export function blockEncoderGraph(kind: BlockKind, subtract: boolean): Uint8Array {
  const g = new GraphBuilder('sae_block');
  const a = blockInputs(g, kind, subtract);
  g.node('Identity', [a], ['A']);
  g.output('A', 'float32', ['T', 'Fb']);
  return g.build();
}

/**
 * Block encoder fused with a correlation's accumulation: accOut = acc + Aᵀ·(block − shift), the
 * block being blockEncoderGraph's. Pairing recomputes each B block once per row of A blocks;
 * fused, that T × Fb block never leaves ONNX Runtime and is not shifted in a second pass.
 */
export function blockAccumulateGraph(kind: BlockKind, subtract: boolean): Uint8Array {
  const g = new GraphBuilder('sae_block_accumulate');
  const block = blockInputs(g, kind, subtract);
  g.input('shift', 'float32', [1, 'Fb']);
  g.input('A', 'float32', ['T', 'fa']);
  g.input('acc', 'float32', ['fa', 'Fb']);
  g.node('Gemm', ['A', g.node('Sub', [block, 'shift']), 'acc'], ['accOut'], { transA: 1, alpha: { float: 1 }, beta: { float: 1 } });
  g.output('accOut', 'float32', ['fa', 'Fb']);
  return g.build();
}

/**
 * One step of the running per-token top-k over feature blocks: R [T, k] (current k largest
 * pre-activations, starting at zeros — pre-activations are ≥ 0) merged with this block's.
 */
export function topkMergeGraph(k: number, subtract: boolean): Uint8Array {
  const g = new GraphBuilder('sae_topk_merge');
  appendTopkMerge(g, blockInputs(g, 'pre', subtract), k);
  return g.build();
}

function appendTopkMerge(g: GraphBuilder, pre: string, k: number): void {
  g.input('R', 'float32', ['T', k]);
  const cat = g.node('Concat', ['R', pre], 1, { axis: 1 });
  g.node('TopK', [cat, g.int64s([k])], ['R_out', 'R_idx'], { axis: 1, largest: 1, sorted: 1 });
  g.output('R_out', 'float32', ['T', k]);
}

/**
 * Per-feature statistics of one (token chunk × feature block): mean and centred sum of squares
 * (merged across chunks with Chan's formula), count of positive activations, max, and the K
 * largest activations over tokens ([Fb, K]) with their in-chunk token index (TopK breaks ties
 * by lower index). The T × Fb activations never leave ONNX Runtime. With `mergeTopk` (kind 'pre'
 * only), also topkMergeGraph's step on the same pre-activations (R → R_out), so a TopK SAE's
 * per-token thresholds come out of the statistics pass instead of another encoding.
 */
export function blockStatsGraph(kind: BlockKind, subtract: boolean, mergeTopk?: number): Uint8Array {
  const g = new GraphBuilder('sae_block_stats');
  const a = blockInputs(g, kind, subtract);
  if (mergeTopk !== undefined) {
    if (kind !== 'pre') throw new Error(`blockStatsGraph: a top-k merge needs pre-activations, not ${kind}`);
    appendTopkMerge(g, a, mergeTopk);
  }
  g.input('K', 'int64', [1]);
  // Op choices are measured (ORT 1.30 CPU, 1024 × 2048): ReduceSumSquare and TopK along axis 0
  // are 6–8× slower than Mul + ReduceSum and Transpose + TopK along the last axis.
  const axis0 = g.int64s([0]);
  const mean = g.node('ReduceMean', [a], 1, { axes: [0], keepdims: 1 });
  g.node('Reshape', [mean, g.int64s([-1])], ['mean']);
  const dev = g.node('Sub', [a, mean]);
  g.node('ReduceSum', [g.node('Mul', [dev, dev]), axis0], ['m2'], { keepdims: 0 });
  const pos = g.node('Cast', [g.node('Greater', [a, g.float(0)])], 1, { to: 1 });
  g.node('ReduceSum', [pos, axis0], ['nnz'], { keepdims: 0 });
  g.node('ReduceMax', [a], ['max'], { axes: [0], keepdims: 0 });
  const at = g.node('Transpose', [a], 1, { perm: [1, 0] });
  g.node('TopK', [at, 'K'], ['top_v', 'top_i'], { axis: 1, largest: 1, sorted: 1 });
  g.output('mean', 'float32', ['Fb']);
  g.output('m2', 'float32', ['Fb']);
  g.output('nnz', 'float32', ['Fb']);
  g.output('max', 'float32', ['Fb']);
  g.output('top_v', 'float32', ['Fb', 'K']);
  g.output('top_i', 'int64', ['Fb', 'K']);
  return g.build();
}

/**
 * One feature block's share of the SAE's reconstruction: the block's codes A (the SAE's own
 * activation, `post`) times its decoder rows Wd [Fb, d], added to the running sum R [T, d]; and
 * the count of tokens each feature fires on. The codes never leave ONNX Runtime.
 */
export function blockReconstructGraph(kind: BlockKind, subtract: boolean): Uint8Array {
  const g = new GraphBuilder('sae_block_reconstruct');
  const a = blockInputs(g, kind, subtract);
  g.input('Wd', 'float32', ['Fb', 'd']);
  g.input('R', 'float32', ['T', 'd']);
  g.node('Add', ['R', g.node('MatMul', [a, 'Wd'])], ['R_out']);
  const fires = g.node('Cast', [g.node('Greater', [a, g.float(0)])], 1, { to: 1 });
  g.node('ReduceSum', [fires, g.int64s([0])], ['nnz'], { keepdims: 0 });
  g.output('R_out', 'float32', ['T', 'd']);
  g.output('nnz', 'float32', ['Fb']);
  return g.build();
}

/**
 * Reconstruction error and variance of one chunk, in f64: sse = Σ‖x − (R + b_dec)‖², the chunk's
 * column means and its centred sum of squares Σ‖x − mean‖² (merged across chunks by Chan's rule).
 */
export function reconstructionErrorGraph(): Uint8Array {
  const g = new GraphBuilder('sae_reconstruction_error');
  g.input('X', 'float32', ['T', 'd']);
  g.input('R', 'float32', ['T', 'd']);
  g.input('b_dec', 'float32', ['d']);
  const DOUBLE = 11;
  const x = g.node('Cast', ['X'], 1, { to: DOUBLE });
  const xhat = g.node('Cast', [g.node('Add', ['R', 'b_dec'])], 1, { to: DOUBLE });
  const err = g.node('Sub', [x, xhat]);
  g.node('ReduceSum', [g.node('Mul', [err, err])], ['sse'], { keepdims: 0 });
  g.node('ReduceMean', [x], ['mean'], { axes: [0], keepdims: 1 });
  const dev = g.node('Sub', [x, 'mean']);
  g.node('ReduceSum', [g.node('Mul', [dev, dev])], ['ss'], { keepdims: 0 });
  g.output('sse', 'float64', []);
  g.output('mean', 'float64', [1, 'd']);
  g.output('ss', 'float64', []);
  return g.build();
}
