// Dense f32 matrix products on ONNX Runtime. Shapes are symbolic in the graph, so one cached
// session serves every size of a given transpose pattern.
import { GraphBuilder } from './onnxGraph.ts';
import { cachedSession, currentDevice, ort } from './session.ts';

/** Row-major f32 matrix. */
export interface Mat {
  data: Float32Array;
  rows: number;
  cols: number;
}

export function mat(rows: number, cols: number, data?: Float32Array): Mat {
  const d = data ?? new Float32Array(rows * cols);
  if (d.length !== rows * cols) throw new Error(`matrix data has ${d.length} elements, expected ${rows}x${cols}`);
  return { data: d, rows, cols };
}

function gemmGraph(transA: boolean, transB: boolean): Uint8Array {
  const g = new GraphBuilder('gemm');
  g.input('A', 'float32', transA ? ['k', 'm'] : ['m', 'k']);
  g.input('B', 'float32', transB ? ['n', 'k'] : ['k', 'n']);
  g.node('Gemm', ['A', 'B'], ['C'], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 });
  g.output('C', 'float32', ['m', 'n']);
  return g.build();
}

/** C = op(A) · op(B), op = transpose when asked. */
export async function gemm(a: Mat, b: Mat, opts: { transA?: boolean; transB?: boolean } = {}): Promise<Mat> {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const m = transA ? a.cols : a.rows;
  const ka = transA ? a.rows : a.cols;
  const kb = transB ? b.cols : b.rows;
  const n = transB ? b.rows : b.cols;
  if (ka !== kb) throw new Error(`gemm: inner dimensions differ (${ka} vs ${kb})`);
  const session = await cachedSession(`gemm:${transA}:${transB}`, () => gemmGraph(transA, transB));
  const out = await session.run({
    A: new ort.Tensor('float32', a.data, [a.rows, a.cols]),
    B: new ort.Tensor('float32', b.data, [b.rows, b.cols]),
  });
  const c = out.C!;
  return mat(m, n, c.data as Float32Array);
}

function gemmChainGraph(n: number, reps: number): Uint8Array {
  const g = new GraphBuilder('gemm-chain');
  g.input('S', 'float32', []);
  // Uniform(−1, 1)·S with S = √(3/n): entries of variance 1/n, so the powers of X neither blow up
  // nor vanish over the chain.
  const r = g.node('RandomUniform', [], 1, { shape: [n, n], low: { float: -1 }, high: { float: 1 }, seed: { float: 1 } });
  const x = g.node('Mul', [r, 'S']);
  let y = x;
  for (let i = 0; i < reps; i++) y = g.node('MatMul', [y, x]);
  g.node('ReduceSum', [y], ['C'], { keepdims: 0 });
  g.output('C', 'float32', []);
  return g.build();
}

/**
 * FLOP/s of `reps` chained n × n products whose operands never leave the device: on a GPU,
 * `gemm()` of the same size also pays for copying its inputs and output across the bus, which
 * is not the arithmetic limit a stage is compared with. Best of three runs after a warm-up. The
 * default size fills the device: 2048 on a CPU, 8192 on a GPU.
 */
export async function residentGemmRate(n = currentDevice() === 'cuda' ? 8192 : 2048, reps = 4): Promise<number> {
  const session = await cachedSession(`gemm-chain:${n}:${reps}`, () => gemmChainGraph(n, reps));
  const feeds = { S: new ort.Tensor('float32', Float32Array.of(Math.sqrt(3 / n)), []) };
  await session.run(feeds);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const out = await session.run(feeds);
    best = Math.min(best, (performance.now() - t0) / 1000);
    if (!Number.isFinite(out.C!.data[0] as number)) throw new Error('residentGemmRate: the chained product overflowed');
  }
  return (reps * 2 * n ** 3) / best;
}
