// The ONNX Runtime graphs behind the similarity measures. Shapes are symbolic, so one cached
// session per graph serves every size. Grams and cross products that feed eigen/SVD steps are
// accumulated in f64 (the 99%-variance cut and small canonical correlations are sensitive to
// them, and they are computed once per side); the per-row and per-permutation products that run
// thousands of times stay in f32.
import { GraphBuilder } from '../kernels/onnxGraph.ts';
import { cachedSession, ort, WITH_ARENA } from '../kernels/session.ts';
import type { Mat } from '../kernels/gemm.ts';

type Tensor = InstanceType<typeof ort.Tensor>;
const DOUBLE = 11; // onnx.TensorProto.DataType.DOUBLE

function f32(data: Float32Array, dims: number[]): Tensor {
  return new ort.Tensor('float32', data, dims);
}

function centredGramGraph(rows: boolean): Uint8Array {
  const g = new GraphBuilder('centred_gram');
  g.input('X', 'float32', ['n', 'd']);
  const xd = g.node('Cast', ['X'], 1, { to: DOUBLE });
  g.node('ReduceMean', [xd], ['mean'], { axes: [0], keepdims: 1 });
  const xc = g.node('Sub', [xd, 'mean']);
  g.node('Gemm', [xc, xc], ['G'], rows ? { transB: 1 } : { transA: 1 });
  g.output('G', 'float64', rows ? ['n', 'n'] : ['d', 'd']);
  g.output('mean', 'float64', [1, 'd']);
  return g.build();
}

/**
 * G = XcᵀXc (d×d, f64) with Xc = X minus its column means, and those means; with `rows`, the row
 * Gram Xc·Xcᵀ (n×n) instead, which has the same nonzero eigenvalues and is smaller when n < d.
 */
export async function centredGram(x: Mat, rows = false): Promise<{ gram: Float64Array; mean: Float64Array }> {
  const s = await cachedSession(`sim:centredGram:${rows}`, () => centredGramGraph(rows));
  const out = await s.run({ X: f32(x.data, [x.rows, x.cols]) });
  return { gram: out.G!.data as Float64Array, mean: out.mean!.data as Float64Array };
}

function crossGraph(centred: boolean): Uint8Array {
  const g = new GraphBuilder('cross_product');
  g.input('X', 'float32', ['n', 'a']);
  g.input('Y', 'float32', ['n', 'b']);
  let xd = g.node('Cast', ['X'], 1, { to: DOUBLE });
  let yd = g.node('Cast', ['Y'], 1, { to: DOUBLE });
  if (centred) {
    xd = g.node('Sub', [xd, g.node('ReduceMean', [xd], 1, { axes: [0], keepdims: 1 })]);
    yd = g.node('Sub', [yd, g.node('ReduceMean', [yd], 1, { axes: [0], keepdims: 1 })]);
  }
  g.node('Gemm', [xd, yd], ['C'], { transA: 1 });
  g.output('C', 'float64', ['a', 'b']);
  return g.build();
}

/** XᵀY (dA×dB, f64), of the column-centred matrices when `centred`. */
export async function crossProduct(x: Mat, y: Mat, centred: boolean): Promise<Float64Array> {
  const s = await cachedSession(`sim:cross:${centred}`, () => crossGraph(centred));
  const out = await s.run({ X: f32(x.data, [x.rows, x.cols]), Y: f32(y.data, [y.rows, y.cols]) });
  return out.C!.data as Float64Array;
}

function crossGramGraph(leftSide: boolean): Uint8Array {
  const g = new GraphBuilder('cross_gram');
  g.input('X', 'float32', ['n', 'a']);
  g.input('Y', 'float32', ['n', 'b']);
  const c = g.node('Gemm', [g.node('Cast', ['X'], 1, { to: DOUBLE }), g.node('Cast', ['Y'], 1, { to: DOUBLE })], 1, { transA: 1 });
  g.node('Gemm', [c, c], ['G'], leftSide ? { transB: 1 } : { transA: 1 });
  g.output('G', 'float64', leftSide ? ['a', 'a'] : ['b', 'b']);
  return g.build();
}

/**
 * The Gram of the cross product C = XᵀY on its narrower side (f64): C·Cᵀ (a×a) when a ≤ b, else
 * Cᵀ·C (b×b). Its eigenvalues are the squared singular values of C.
 */
export async function crossProductGram(x: Mat, y: Mat): Promise<{ gram: Float64Array; size: number }> {
  const leftSide = x.cols <= y.cols;
  const s = await cachedSession(`sim:crossGram:${leftSide}`, () => crossGramGraph(leftSide));
  const out = await s.run({ X: f32(x.data, [x.rows, x.cols]), Y: f32(y.data, [y.rows, y.cols]) });
  return { gram: out.G!.data as Float64Array, size: leftSide ? x.cols : y.cols };
}

function projectGraph(): Uint8Array {
  const g = new GraphBuilder('project');
  g.input('X', 'float32', ['n', 'd']);
  g.input('mean', 'float32', [1, 'd']);
  g.input('W', 'float32', ['d', 'k']);
  g.node('MatMul', [g.node('Sub', ['X', 'mean']), 'W'], ['U']);
  g.output('U', 'float32', ['n', 'k']);
  return g.build();
}

/** (X − 1·meanᵀ)·W: e.g. the orthonormal basis Xc·V·S⁻¹ of the kept singular directions. */
export async function project(x: Mat, mean: Float32Array, w: Mat): Promise<Mat> {
  const s = await cachedSession('sim:project', projectGraph);
  const out = await s.run({ X: f32(x.data, [x.rows, x.cols]), mean: f32(mean, [1, x.cols]), W: f32(w.data, [w.rows, w.cols]) });
  return { data: out.U!.data as Float32Array, rows: x.rows, cols: w.cols };
}

function batchedCrossGraph(sumOfSquares: boolean): Uint8Array {
  // One session call scores a batch of permutations: gather the rows of the right factor by each
  // permutation ([B, n, k2]) and multiply by the fixed left factor (given transposed, [k1, n]).
  const g = new GraphBuilder('batched_cross');
  g.input('LT', 'float32', ['k1', 'n']);
  g.input('R', 'float32', ['n', 'k2']);
  g.input('idx', 'int64', ['B', 'n']);
  const gathered = g.node('Gather', ['R', 'idx'], 1, { axis: 0 });
  const m = g.node('MatMul', ['LT', gathered], [sumOfSquares ? 'M' : 'Mout']);
  if (sumOfSquares) {
    // Summed in f64: an f32 sum over k1·k2 entries loses ~1e-4 relative, which is a fifth of a
    // null sd of CKA at n = 4096 (the products themselves stay f32).
    g.node('ReduceSumSquare', [g.node('Cast', [m], 1, { to: DOUBLE })], ['S'], { axes: [1, 2], keepdims: 0 });
    g.output('S', 'float64', ['B']);
  } else {
    g.output('Mout', 'float32', ['B', 'k1', 'k2']);
  }
  return g.build();
}

function permutationIndex(perms: readonly Int32Array[], n: number): Tensor {
  const idx = new BigInt64Array(perms.length * n);
  perms.forEach((p, b) => {
    for (let i = 0; i < n; i++) idx[b * n + i] = BigInt(p[i]!);
  });
  return new ort.Tensor('int64', idx, [perms.length, n]);
}

/** For each permutation P: Lᵀ·(P·R), i.e. Σ_i L[i,:]ᵀ R[perm[i],:] — a [B, k1, k2] batch. */
export async function permutedCross(leftT: Mat, right: Mat, perms: readonly Int32Array[]): Promise<Float32Array> {
  const s = await cachedSession('sim:permutedCross', () => batchedCrossGraph(false), WITH_ARENA);
  const out = await s.run({ LT: f32(leftT.data, [leftT.rows, leftT.cols]), R: f32(right.data, [right.rows, right.cols]), idx: permutationIndex(perms, right.rows) });
  return out.Mout!.data as Float32Array;
}

/** For each permutation P: ‖Lᵀ·(P·R)‖²_F (f32 products, summed in f64). */
export async function permutedCrossSumOfSquares(leftT: Mat, right: Mat, perms: readonly Int32Array[]): Promise<Float64Array> {
  const s = await cachedSession('sim:permutedCrossSS', () => batchedCrossGraph(true), WITH_ARENA);
  const out = await s.run({ LT: f32(leftT.data, [leftT.rows, leftT.cols]), R: f32(right.data, [right.rows, right.cols]), idx: permutationIndex(perms, right.rows) });
  return out.S!.data as Float64Array;
}

export type PolarStepKind = 'quintic' | 'cubic';

/** An odd quintic p(σ) = a·σ + b·σ³ + c·σ⁵, applied to singular values by one quintic step. */
export type OddQuintic = readonly [number, number, number];

/**
 * One Newton–Schulz step's nodes on X ([B, r, c]): the odd quintic whose coefficient tensors are
 * `poly`, or the cubic 1.5X − 0.5·AX without it. Wide (r ≤ c): A = XXᵀ acts from the left; tall:
 * A = XᵀX acts from the right.
 */
function polarStepNodes(g: GraphBuilder, x: string, wide: boolean, poly?: readonly [string, string, string], output?: string): string {
  const xt = g.node('Transpose', [x], 1, { perm: [0, 2, 1] });
  const a = wide ? g.node('MatMul', [x, xt]) : g.node('MatMul', [xt, x]);
  const times = (p: string): string => (wide ? g.node('MatMul', [p, x]) : g.node('MatMul', [x, p]));
  const outputs = output ? [output] : 1;
  if (!poly) return g.node('Sub', [g.node('Mul', [x, g.float(1.5)]), g.node('Mul', [times(a), g.float(0.5)])], outputs);
  const [ca, cb, cc] = poly;
  const q = g.node('Add', [g.node('Mul', [a, cb]), g.node('Mul', [g.node('MatMul', [a, a]), cc])]);
  return g.node('Add', [g.node('Mul', [x, ca]), times(q)], outputs);
}

// Newton–Schulz steps towards the orthogonal polar factor of M, whose singular values σ map
// through a scalar polynomial each step, singular vectors fixed. A quintic step applies the odd
// quintic it is given (its coefficients are inputs, so one session serves every schedule: the
// Muon coefficients, Polar Express steps); the classic cubic 1.5x − 0.5x³ costs one product less
// and converges every σ in (0, √3) to 1 quadratically. Σσ = trace(polar(M)ᵀM) is the nuclear norm.
function polarStepGraph(kind: PolarStepKind, wide: boolean): Uint8Array {
  const g = new GraphBuilder(`polar_${kind}`);
  g.input('X', 'float32', ['B', 'r', 'c']);
  g.input('M', 'float32', ['B', 'r', 'c']);
  let coefficients: [string, string, string] | undefined;
  if (kind === 'quintic') {
    coefficients = ['ca', 'cb', 'cc'];
    for (const name of coefficients) g.input(name, 'float32', [1]);
  }
  const next = polarStepNodes(g, 'X', wide, coefficients, 'Xnext');
  // trace(Xnextᵀ·M) as a [B, 1, rc] × [B, rc, 1] MatMul rather than ReduceSum: ReduceSum's
  // vectorised sum splits each slice by its memory alignment, so the same matrix would get
  // another rounding at another place in the batch; the MatMul's sum order does not move.
  const flat = g.node('Reshape', [next, g.int64s([0, 1, -1])]);
  const column = g.node('Reshape', ['M', g.int64s([0, -1, 1])]);
  g.node('Reshape', [g.node('MatMul', [flat, column]), g.int64s([-1])], ['trace']);
  // ‖Xnext − X‖²_F, by the same batch-position-independent route.
  const diff = g.node('Reshape', [g.node('Sub', [next, 'X']), g.int64s([0, 1, -1])]);
  g.node('Reshape', [g.node('MatMul', [diff, g.node('Transpose', [diff], 1, { perm: [0, 2, 1] })]), g.int64s([-1])], ['change']);
  g.output('Xnext', 'float32', ['B', 'r', 'c']);
  g.output('trace', 'float32', ['B']);
  g.output('change', 'float32', ['B']);
  return g.build();
}

/**
 * One Newton–Schulz step on a [B, r, c] batch — the odd quintic `poly`, or the cubic when none is
 * given; also returns trace(Xnextᵀ·M) and ‖Xnext − X‖²_F per batch entry.
 */
export async function polarStep(x: Float32Array, m: Float32Array, dims: [number, number, number], poly?: OddQuintic): Promise<{ x: Float32Array; trace: Float32Array; change: Float32Array }> {
  const wide = dims[1] <= dims[2];
  const kind: PolarStepKind = poly ? 'quintic' : 'cubic';
  const s = await cachedSession(`sim:polar:${kind}:${wide}`, () => polarStepGraph(kind, wide), WITH_ARENA);
  const feeds: Record<string, Tensor> = { X: f32(x, dims), M: f32(m, dims) };
  if (poly) poly.forEach((v, i) => (feeds[['ca', 'cb', 'cc'][i]!] = f32(Float32Array.of(v), [1])));
  const out = await s.run(feeds);
  return { x: out.Xnext!.data as Float32Array, trace: out.trace!.data as Float32Array, change: out.change!.data as Float32Array };
}

function rdmBlockGraph(kind: 'correlation' | 'euclidean'): Uint8Array {
  const g = new GraphBuilder(`rdm_${kind}`);
  g.input('Xb', 'float32', ['b', 'd']);
  g.input('X', 'float32', ['r', 'd']);
  const inner = g.node('Gemm', ['Xb', 'X'], [kind === 'correlation' ? 'S' : 'inner'], { transB: 1 });
  if (kind === 'euclidean') {
    g.input('sqb', 'float32', ['b', 1]);
    g.input('sq', 'float32', [1, 'r']);
    const d2 = g.node('Sub', [g.node('Add', ['sqb', 'sq']), g.node('Mul', [inner, g.float(2)])]);
    g.node('Sqrt', [g.node('Relu', [d2])], ['S']);
  }
  g.output('S', 'float32', ['b', 'r']);
  return g.build();
}

/**
 * One block of rows of an n×n row-similarity matrix: rows [r0, r1) against rows [0, cols).
 * `correlation` expects rows prepared by rowCorrelationFactors (S = inner products = Pearson r);
 * `euclidean` gives distances, with the squared row norms passed in.
 */
export async function rdmBlock(kind: 'correlation' | 'euclidean', x: Mat, r0: number, r1: number, cols: number, sq?: Float32Array): Promise<Float32Array> {
  const s = await cachedSession(`sim:rdm:${kind}`, () => rdmBlockGraph(kind));
  const d = x.cols;
  const feeds: Record<string, Tensor> = {
    Xb: f32(x.data.subarray(r0 * d, r1 * d), [r1 - r0, d]),
    X: f32(x.data.subarray(0, cols * d), [cols, d]),
  };
  if (kind === 'euclidean') {
    feeds.sqb = f32(sq!.subarray(r0, r1), [r1 - r0, 1]);
    feeds.sq = f32(sq!.subarray(0, cols), [1, cols]);
  }
  const out = await s.run(feeds);
  return out.S!.data as Float32Array;
}

function topNeighboursGraph(): Uint8Array {
  const g = new GraphBuilder('top_neighbours');
  g.input('Xb', 'float32', ['b', 'd']);
  g.input('X', 'float32', ['n', 'd']);
  g.input('k', 'int64', [1]);
  const sim = g.node('Gemm', ['Xb', 'X'], 1, { transB: 1 });
  g.node('TopK', [sim, 'k'], ['values', 'indices'], { axis: 1, largest: 1, sorted: 1 });
  g.output('values', 'float32', ['b', 'kk']);
  g.output('indices', 'int64', ['b', 'kk']);
  return g.build();
}

/**
 * For rows [r0, r1) of unit-length rows x: the `k` rows of largest inner product (self included),
 * best first, with those inner products (cosines).
 */
export async function topNeighbours(x: Mat, r0: number, r1: number, k: number): Promise<{ indices: BigInt64Array; values: Float32Array }> {
  const s = await cachedSession('sim:topNeighbours', topNeighboursGraph);
  const d = x.cols;
  const out = await s.run({
    Xb: f32(x.data.subarray(r0 * d, r1 * d), [r1 - r0, d]),
    X: f32(x.data, [x.rows, d]),
    k: new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]),
  });
  return { indices: out.indices!.data as BigInt64Array, values: out.values!.data as Float32Array };
}

/**
 * The SVCCA null's permuted spectra in one call per batch: gather and multiply as
 * `batchedCrossGraph` (M = Lᵀ·P·R, [B, r, c]), then work on the k×k Gram G = MMᵀ (wide) or MᵀM
 * (tall), k = min(r, c): divide by s², s an estimate of M's largest singular value from
 * `powerSteps` power steps on G (√ of the Rayleigh quotient, a lower bound) times `margin`, rounded
 * up to a power of 2^(1/8) so that a last-bit difference between two runs rarely moves it.
 *
 * The odd quintic polar steps `lead`, X ← q(XXᵀ)·X on X = M/s, keep X = Z·M/s with Z a
 * polynomial in G, so they run as the coupled iteration A = Z·Y, Z ← q(A)·Z, Y ← q(A)·Y from
 * Z = I, Y = G/s² (Y = Z·G/s², all commuting): k×k products only, two for the first step. In
 * the eigenbasis of G, with σ'ᵢ = σᵢ/s and fᵢ what the steps made of σ'ᵢ, A holds fᵢ² and Y holds
 * yᵢ = fᵢ·σ'ᵢ ≥ 0, so Σσ = s·tr(Y·A^(-1/2)). With E = A − I, the finish takes A^(-1/2) to third order,
 * trace = s·tr(Y·(I − E/2 + 3E²/8 − 5E³/16)), from E² and Y·E² (two products; every trace is a
 * Frobenius inner product of matrices at hand). Where every |εᵢ| ≤ 0.1 (checked by `spread` =
 * tr(E⁴) = Σεᵢ⁴ ≤ 1e-4) the Lagrange remainder is at most 35/128·0.9^(-9/2)·εᵢ⁴ ≤ 0.44·εᵢ⁴, so
 * the trace misses at most `miss` = 0.44·s·tr(Y·E⁴) = 0.44·s·Σyᵢεᵢ⁴. A direction the steps left
 * far from 1 (σ' outside their interval, or an exact zero) makes `spread` large.
 *
 * At 486 × 751 that is 14.5 k³-products per matrix against 18.5 for three quintic and two cubic
 * steps on X: measured at n = 8192 in batches of 6, 55.6 against 60.6 ms per permutation.
 */
function permutedSpectraGraph(wide: boolean, lead: readonly OddQuintic[], powerSteps: number, margin: number): Uint8Array {
  const g = new GraphBuilder('permuted_spectra');
  g.input('LT', 'float32', ['k1', 'n']);
  g.input('R', 'float32', ['n', 'k2']);
  g.input('idx', 'int64', ['B', 'n']);
  const m = g.node('MatMul', ['LT', g.node('Gather', ['R', 'idx'], 1, { axis: 0 })]);
  const transposed = (a: string): string => g.node('Transpose', [a], 1, { perm: [0, 2, 1] });
  // Sums as [B,1,x]×[B,x,1] MatMuls: their order does not depend on the slice's place in the batch.
  const flat = (a: string): string => g.node('Reshape', [a, g.int64s([0, 1, -1])]);
  const dot = (a: string, b: string): string => g.node('MatMul', [flat(a), transposed(flat(b))]);
  const mm = (a: string, b: string): string => g.node('MatMul', [a, b]);
  const times = (a: string, v: number): string => g.node('Mul', [a, g.float(v)]);
  const mt = transposed(m);
  const gram = wide ? mm(m, mt) : mm(mt, m);
  const eye = g.node('EyeLike', [g.node('Squeeze', [g.node('Gather', [gram, g.int64s([0])], 1, { axis: 0 }), g.int64s([0])])]);
  const k = g.node('Slice', [g.node('Shape', [gram]), g.int64s([1]), g.int64s([2])]);
  let u = g.node('ConstantOfShape', [g.node('Concat', [g.int64s([1, 1]), k], 1, { axis: 0 })], 1, { value: { tensor: { dtype: 'float32', dims: [1], data: Float32Array.of(1) } } });
  let unit = u;
  for (let i = 0; i <= powerSteps; i++) {
    unit = g.node('Div', [u, g.node('Max', [g.node('Sqrt', [dot(u, u)]), g.float(1e-30)])]);
    u = mm(unit, gram);
  }
  // ûᵀGû with ‖û‖ = 1 is at most σ_max²: the margin and the rounding up lift its root above σ_max.
  const sigma = g.node('Mul', [g.node('Sqrt', [g.node('Max', [dot(u, unit), g.float(0)])]), g.float(margin)]);
  const level = g.node('Ceil', [g.node('Mul', [g.node('Log', [g.node('Max', [sigma, g.float(1e-6)])]), g.float(8 / Math.LN2)])]);
  const s = g.node('Exp', [g.node('Mul', [level, g.float(Math.LN2 / 8)])]);
  const g0 = g.node('Div', [gram, g.node('Mul', [s, s])]);
  let z = '', y = g0;
  lead.forEach(([ca, cb, cc], i) => {
    const a = i === 0 ? g0 : mm(z, y);
    const q = g.node('Add', [g.node('Add', [times(eye, ca), times(a, cb)]), times(mm(a, a), cc)]);
    z = i === 0 ? q : mm(q, z);
    y = mm(q, y);
  });
  const e = g.node('Sub', [lead.length === 0 ? g0 : mm(z, y), eye]);
  const e2 = mm(e, e);
  const ye2 = mm(y, e2);
  // tr(a·b) of these k×k matrices (polynomials in G, symmetric up to rounding) as ⟨a, b⟩; tr(Y)
  // against I expanded to the batch, since a [B,1,x]×[x,1] MatMul would sum a lone matrix in
  // another order than a batch of them.
  const series = [dot(y, g.node('Expand', [eye, g.node('Shape', [y])])), times(dot(y, e), -1 / 2), times(dot(y, e2), 3 / 8), times(dot(ye2, e), -5 / 16)];
  const sum = series.reduce((acc, t) => g.node('Add', [acc, t]));
  g.node('Reshape', [g.node('Mul', [sum, s]), g.int64s([-1])], ['trace']);
  g.node('Reshape', [g.node('Mul', [g.node('Abs', [dot(ye2, e2)]), g.node('Mul', [s, g.float(0.44)])]), g.int64s([-1])], ['miss']);
  g.node('Reshape', [dot(e2, e2), g.int64s([-1])], ['spread']);
  g.output('trace', 'float32', ['B']);
  g.output('miss', 'float32', ['B']);
  g.output('spread', 'float32', ['B']);
  return g.build();
}

/** How permutedSpectra iterates (fixed per session: the steps are unrolled into its graph). */
export interface PermutedSpectraSchedule {
  /** Names the cached session: one per schedule. */
  key: string;
  lead: readonly OddQuintic[];
  powerSteps: number;
  margin: number;
}

/** Per permutation P of the batch, for M = Lᵀ·P·R: the nuclear-norm estimate, the bound on what it misses, and the spread that validates the bound (permutedSpectraGraph). */
export async function permutedSpectra(leftT: Mat, right: Mat, perms: readonly Int32Array[], schedule: PermutedSpectraSchedule): Promise<{ trace: Float32Array; miss: Float32Array; spread: Float32Array }> {
  const wide = leftT.rows <= right.cols;
  const s = await cachedSession(`sim:permutedSpectra:${schedule.key}:${wide}`, () => permutedSpectraGraph(wide, schedule.lead, schedule.powerSteps, schedule.margin), WITH_ARENA);
  const out = await s.run({ LT: f32(leftT.data, [leftT.rows, leftT.cols]), R: f32(right.data, [right.rows, right.cols]), idx: permutationIndex(perms, right.rows) });
  return { trace: out.trace!.data as Float32Array, miss: out.miss!.data as Float32Array, spread: out.spread!.data as Float32Array };
}
