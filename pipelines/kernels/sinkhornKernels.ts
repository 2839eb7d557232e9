// Sinkhorn iterations for entropic optimal transport as ONNX graphs: a fixed number of
// scaling updates per run (unrolled), so the JS side only checks convergence between runs.
import { GraphBuilder } from './onnxGraph.ts';
import { cachedSession, ort } from './session.ts';

export const SINKHORN_ITERATIONS_PER_RUN = 10;

function iterateGraph(iterations: number): Uint8Array {
  // K: n×m Gibbs kernel; a: n×1, b: 1×m marginals; v: 1×m current column scaling.
  const g = new GraphBuilder('sinkhorn_iterate');
  g.input('K', 'float32', ['n', 'm']);
  g.input('a', 'float32', ['n', 1]);
  g.input('b', 'float32', [1, 'm']);
  g.input('v', 'float32', [1, 'm']);
  let v = 'v';
  let u = '';
  for (let it = 0; it < iterations; it++) {
    const kv = g.node('Gemm', ['K', v], 1, { transB: 1 }); // n×1
    u = g.node('Div', ['a', kv]);
    const ktu = g.node('Gemm', [u, 'K'], 1, { transA: 1 }); // 1×m
    v = g.node('Div', ['b', ktu], it === iterations - 1 ? ['vOut'] : 1);
  }
  g.node('Identity', [u], ['uOut']);
  // Row marginals of the plan after the last v update: how far from `a` the rows still are.
  const rowMass = g.node('Mul', [u, g.node('Gemm', ['K', 'vOut'], 1, { transB: 1 })]);
  g.node('ReduceSum', [g.node('Abs', [g.node('Sub', [rowMass, 'a'])])], ['rowError'], { keepdims: 0 });
  g.output('uOut', 'float32', ['n', 1]);
  g.output('vOut', 'float32', [1, 'm']);
  g.output('rowError', 'float32', []);
  return g.build();
}

export interface SinkhornState {
  u: Float32Array;
  v: Float32Array;
  /** L1 distance of the plan's row sums from the row marginals. */
  rowError: number;
}

export async function sinkhornIterations(
  K: Float32Array,
  n: number,
  m: number,
  a: Float32Array,
  b: Float32Array,
  v: Float32Array,
): Promise<SinkhornState> {
  const s = await cachedSession(`sinkhorn:iterate:${SINKHORN_ITERATIONS_PER_RUN}`, () => iterateGraph(SINKHORN_ITERATIONS_PER_RUN));
  const out = await s.run({
    K: new ort.Tensor('float32', K, [n, m]),
    a: new ort.Tensor('float32', a, [n, 1]),
    b: new ort.Tensor('float32', b, [1, m]),
    v: new ort.Tensor('float32', v, [1, m]),
  });
  return { u: out.uOut!.data as Float32Array, v: out.vOut!.data as Float32Array, rowError: (out.rowError!.data as Float32Array)[0]! };
}

function kernelGraph(): Uint8Array {
  // K = exp((S − max S) / ε): the Gibbs kernel for cost −S, shifted so every entry is ≤ 1.
  const g = new GraphBuilder('sinkhorn_kernel');
  g.input('S', 'float32', ['n', 'm']);
  g.input('eps', 'float32', []);
  const mx = g.node('ReduceMax', ['S'], 1, { keepdims: 0 });
  g.node('Exp', [g.node('Div', [g.node('Sub', ['S', mx]), 'eps'])], ['K']);
  g.output('K', 'float32', ['n', 'm']);
  return g.build();
}

export async function gibbsKernel(similarity: Float32Array, n: number, m: number, epsilon: number): Promise<Float32Array> {
  const s = await cachedSession('sinkhorn:kernel', kernelGraph);
  const out = await s.run({ S: new ort.Tensor('float32', similarity, [n, m]), eps: new ort.Tensor('float32', Float32Array.of(epsilon), []) });
  return out.K!.data as Float32Array;
}

function hardMapGraph(): Uint8Array {
  // The plan P = diag(u)·K·diag(v), reduced to its argmax along both axes.
  const g = new GraphBuilder('sinkhorn_hard_map');
  g.input('K', 'float32', ['n', 'm']);
  g.input('u', 'float32', ['n', 1]);
  g.input('v', 'float32', [1, 'm']);
  const p = g.node('Mul', [g.node('Mul', ['K', 'u']), 'v']);
  g.node('ArgMax', [p], ['rowForCol'], { axis: 0, keepdims: 0 });
  g.node('ArgMax', [p], ['colForRow'], { axis: 1, keepdims: 0 });
  g.output('rowForCol', 'int64', ['m']);
  g.output('colForRow', 'int64', ['n']);
  return g.build();
}

export async function planArgmax(K: Float32Array, n: number, m: number, u: Float32Array, v: Float32Array): Promise<{ rowForCol: BigInt64Array; colForRow: BigInt64Array }> {
  const s = await cachedSession('sinkhorn:hardMap', hardMapGraph);
  const out = await s.run({
    K: new ort.Tensor('float32', K, [n, m]),
    u: new ort.Tensor('float32', u, [n, 1]),
    v: new ort.Tensor('float32', v, [1, m]),
  });
  return { rowForCol: out.rowForCol!.data as BigInt64Array, colForRow: out.colForRow!.data as BigInt64Array };
}
