// ONNX graphs behind streaming feature correlation: per token chunk, the shifted cross product
// AᵀB accumulated into a block, per-feature sums; per block, the correlation and its max/argmax
// along both axes; a running top-k of activations per feature. Shapes are symbolic, so one
// cached session per graph serves every block size.
import { GraphBuilder } from './onnxGraph.ts';
import { cachedSession, ort } from './session.ts';
import type { Mat } from './gemm.ts';

type Tensor = InstanceType<typeof ort.Tensor>;

function f32(data: Float32Array, dims: number[]): Tensor {
  return new ort.Tensor('float32', data, dims);
}

function shiftGraph(): Uint8Array {
  // Shift = the chunk mean, refined once (mean + mean of the residuals): a plain f32 mean of
  // values like 500 ± 0.001 is off by more than their spread, and shifting by it would leave
  // the cancellation the shift is there to avoid. Snapped to the exact value when the chunk is
  // constant, so a constant feature's shifted values and variance are exactly 0.
  const g = new GraphBuilder('chunk_shift');
  g.input('X', 'float32', ['t', 'f']);
  const rough = g.node('ReduceMean', ['X'], 1, { axes: [0], keepdims: 1 });
  const residual = g.node('ReduceMean', [g.node('Sub', ['X', rough])], 1, { axes: [0], keepdims: 1 });
  const mean = g.node('Add', [rough, residual]);
  const mx = g.node('ReduceMax', ['X'], 1, { axes: [0], keepdims: 1 });
  const mn = g.node('ReduceMin', ['X'], 1, { axes: [0], keepdims: 1 });
  const same = g.node('Equal', [mx, mn]);
  g.node('Where', [same, mx, mean], ['shift']);
  g.output('shift', 'float32', [1, 'f']);
  return g.build();
}

/** Per-column shift for numerically careful accumulation: the column mean of a token chunk. */
export async function chunkShift(x: Mat): Promise<Float32Array> {
  const s = await cachedSession('corr:shift', shiftGraph);
  const out = await s.run({ X: f32(x.data, [x.rows, x.cols]) });
  return out.shift!.data as Float32Array;
}

function shiftedChunkGraph(): Uint8Array {
  const g = new GraphBuilder('corr_shift_chunk');
  g.input('X', 'float32', ['t', 'f']);
  g.input('shift', 'float32', [1, 'f']);
  const xs = g.node('Sub', ['X', 'shift'], ['Xs']);
  const axes = g.int64s([0]);
  g.node('ReduceSum', [xs, axes], ['sum'], { keepdims: 1 });
  g.node('ReduceSum', [g.node('Mul', [xs, xs]), axes], ['sq'], { keepdims: 1 });
  g.output('Xs', 'float32', ['t', 'f']);
  g.output('sum', 'float32', [1, 'f']);
  g.output('sq', 'float32', [1, 'f']);
  return g.build();
}

export interface ShiftedChunk {
  /** The chunk minus the per-column shift (t × f). */
  shifted: Mat;
  /** Column sums and sums of squares of the shifted values. */
  sum: Float32Array;
  sq: Float32Array;
}

/**
 * X − shift, with the shifted values' column sums and sums of squares (what a correlation
 * accumulates). `into` (at least rows × cols floats) receives the shifted values: a chunk-sized
 * buffer reused across calls, where a fresh one per call costs page faults and collections.
 */
export async function shiftChunk(x: Mat, shift: Float32Array, into?: Float32Array): Promise<ShiftedChunk> {
  const s = await cachedSession('corr:shiftChunk', shiftedChunkGraph);
  const feeds = { X: f32(x.data, [x.rows, x.cols]), shift: f32(shift, [1, x.cols]) };
  const out = into ? await s.run(feeds, { Xs: f32(into.subarray(0, x.rows * x.cols), [x.rows, x.cols]), sum: null, sq: null }) : await s.run(feeds);
  return { shifted: { data: out.Xs!.data as Float32Array, rows: x.rows, cols: x.cols }, sum: out.sum!.data as Float32Array, sq: out.sq!.data as Float32Array };
}

function accumulateGraph(): Uint8Array {
  const g = new GraphBuilder('corr_accumulate');
  g.input('A', 'float32', ['t', 'fa']);
  g.input('B', 'float32', ['t', 'fb']);
  g.input('acc', 'float32', ['fa', 'fb']);
  g.node('Gemm', ['A', 'B', 'acc'], ['accOut'], { transA: 1, alpha: { float: 1 }, beta: { float: 1 } });
  g.output('accOut', 'float32', ['fa', 'fb']);
  return g.build();
}

/** The preconditions of an accumulation acc + AᵀB into `out`, shared by its fused SAE variant. */
export function checkAccumulation(who: string, rowsA: number, rowsB: number, acc: Float32Array, out: Float32Array): void {
  if (rowsA !== rowsB) throw new Error(`${who}: token counts differ (${rowsA} vs ${rowsB})`);
  if (out.buffer === acc.buffer && out.byteOffset === acc.byteOffset) throw new Error(`${who}: the output buffer must differ from the accumulator`);
}

/**
 * acc + AᵀB of two shifted chunks, written into `into` (a buffer other than `acc`): ONNX Runtime
 * does not write an output over its input.
 */
export async function accumulateShifted(a: Mat, b: Mat, acc: Float32Array, into: Float32Array): Promise<Float32Array> {
  checkAccumulation('accumulateShifted', a.rows, b.rows, acc, into);
  const s = await cachedSession('corr:accumulate', accumulateGraph);
  await s.run({ A: f32(a.data, [a.rows, a.cols]), B: f32(b.data, [b.rows, b.cols]), acc: f32(acc, [a.cols, b.cols]) }, { accOut: f32(into, [a.cols, b.cols]) });
  return into;
}

function reduceGraph(withMatrix: boolean): Uint8Array {
  // C = (acc − meanA·sumBᵀ) ∘ (invA · invBᵀ): the centred cross product scaled per feature;
  // invA/invB are 0 for zero-variance features, so those correlate 0 with everything.
  const g = new GraphBuilder('corr_reduce');
  g.input('acc', 'float32', ['fa', 'fb']);
  g.input('meanA', 'float32', ['fa', 1]);
  g.input('sumB', 'float32', [1, 'fb']);
  g.input('invA', 'float32', ['fa', 1]);
  g.input('invB', 'float32', [1, 'fb']);
  const centred = g.node('Sub', ['acc', g.node('Mul', ['meanA', 'sumB'])]);
  const c = g.node('Mul', [g.node('Mul', [centred, 'invA']), 'invB'], [withMatrix ? 'C' : 'Cint']);
  g.node('ReduceMax', [c], ['maxOverA'], { axes: [0], keepdims: 0 });
  g.node('ArgMax', [c], ['argOverA'], { axis: 0, keepdims: 0 });
  g.node('ReduceMax', [c], ['maxOverB'], { axes: [1], keepdims: 0 });
  g.node('ArgMax', [c], ['argOverB'], { axis: 1, keepdims: 0 });
  g.output('maxOverA', 'float32', ['fb']);
  g.output('argOverA', 'int64', ['fb']);
  g.output('maxOverB', 'float32', ['fa']);
  g.output('argOverB', 'int64', ['fa']);
  if (withMatrix) g.output('C', 'float32', ['fa', 'fb']);
  return g.build();
}

export interface BlockReduction {
  /** For each B column of the block: the max correlation over the block's A rows, and its row. */
  maxOverA: Float32Array;
  argOverA: BigInt64Array;
  /** For each A row of the block: the max correlation over the block's B columns, and its column. */
  maxOverB: Float32Array;
  argOverB: BigInt64Array;
  /** The block's correlation matrix (fa × fb), only when asked for. */
  corr?: Mat;
}

export async function reduceCorrelationBlock(
  acc: Float32Array,
  meanA: Float32Array,
  sumB: Float32Array,
  invA: Float32Array,
  invB: Float32Array,
  keepMatrix: boolean,
): Promise<BlockReduction> {
  const fa = meanA.length, fb = sumB.length;
  const s = await cachedSession(`corr:reduce:${keepMatrix}`, () => reduceGraph(keepMatrix));
  const out = await s.run({
    acc: f32(acc, [fa, fb]),
    meanA: f32(meanA, [fa, 1]),
    sumB: f32(sumB, [1, fb]),
    invA: f32(invA, [fa, 1]),
    invB: f32(invB, [1, fb]),
  });
  const r: BlockReduction = {
    maxOverA: out.maxOverA!.data as Float32Array,
    argOverA: out.argOverA!.data as BigInt64Array,
    maxOverB: out.maxOverB!.data as Float32Array,
    argOverB: out.argOverB!.data as BigInt64Array,
  };
  if (keepMatrix) r.corr = { data: out.C!.data as Float32Array, rows: fa, cols: fb };
  return r;
}

function topkGraph(): Uint8Array {
  // Running top-k down the token axis. ONNX TopK breaks ties by lower index; the running rows
  // come first in the concatenation and hold earlier positions, so ties resolve by position.
  const g = new GraphBuilder('running_topk');
  g.input('X', 'float32', ['t', 'f']);
  g.input('prevV', 'float32', ['k', 'f']);
  g.input('prevI', 'int64', ['k', 'f']);
  g.input('kChunk', 'int64', [1]);
  g.input('k', 'int64', [1]);
  g.input('offset', 'int64', [1]);
  const [cv, ci] = [g.fresh('cv'), g.fresh('ci')];
  g.node('TopK', ['X', 'kChunk'], [cv, ci], { axis: 0, largest: 1, sorted: 1 });
  const cpos = g.node('Add', [ci, 'offset']);
  const allV = g.node('Concat', ['prevV', cv], 1, { axis: 0 });
  const allI = g.node('Concat', ['prevI', cpos], 1, { axis: 0 });
  const li = g.fresh('li');
  g.node('TopK', [allV, 'k'], ['values', li], { axis: 0, largest: 1, sorted: 1 });
  g.node('GatherElements', [allI, li], ['positions'], { axis: 0 });
  g.output('values', 'float32', ['k', 'f']);
  g.output('positions', 'int64', ['k', 'f']);
  return g.build();
}

export interface RunningTopK {
  /** k × f, row r = the r-th highest activation of each feature (row-major). */
  values: Float32Array;
  positions: BigInt64Array;
  k: number;
}

/** Starting state for `mergeTopK`: -inf values so real activations always win. */
export function emptyTopK(k: number, features: number): RunningTopK {
  return { values: new Float32Array(k * features).fill(-Infinity), positions: new BigInt64Array(k * features).fill(-1n), k };
}

/** Merge the top-k of a chunk of tokens (rows start at token `offset`) into the running top-k. */
export async function mergeTopK(prev: RunningTopK, x: Mat, offset: number): Promise<RunningTopK> {
  const s = await cachedSession('corr:topk', topkGraph);
  const out = await s.run({
    X: f32(x.data, [x.rows, x.cols]),
    prevV: f32(prev.values, [prev.k, x.cols]),
    prevI: new ort.Tensor('int64', prev.positions, [prev.k, x.cols]),
    kChunk: new ort.Tensor('int64', BigInt64Array.of(BigInt(Math.min(prev.k, x.rows))), [1]),
    k: new ort.Tensor('int64', BigInt64Array.of(BigInt(prev.k)), [1]),
    offset: new ort.Tensor('int64', BigInt64Array.of(BigInt(offset)), [1]),
  });
  return { values: out.values!.data as Float32Array, positions: out.positions!.data as BigInt64Array, k: prev.k };
}

function gatherColumnsGraph(): Uint8Array {
  const g = new GraphBuilder('gather_columns');
  g.input('X', 'float32', ['t', 'f']);
  g.input('idx', 'int64', ['n']);
  g.node('Gather', ['X', 'idx'], ['Y'], { axis: 1 });
  g.output('Y', 'float32', ['t', 'n']);
  return g.build();
}

/** The given columns of X (t × n). */
export async function gatherColumns(x: Mat, columns: ArrayLike<number>): Promise<Mat> {
  const s = await cachedSession('corr:gatherColumns', gatherColumnsGraph);
  const idx = BigInt64Array.from(Array.from(columns, (c) => BigInt(c)));
  const out = await s.run({ X: f32(x.data, [x.rows, x.cols]), idx: new ort.Tensor('int64', idx, [idx.length]) });
  return { data: out.Y!.data as Float32Array, rows: x.rows, cols: idx.length };
}
