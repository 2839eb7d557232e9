// How fast the floor's random-init copy is made: a synthetic ONNX with float initializers of a
// small real model's size (2 × 4096² + 8 × 1024² floats ≈ 42 M parameters), re-drawn by
// randomInitModel (one ONNX Runtime graph), against a plain JS pass computing mean and sd of the
// same tensors (the least a JS implementation would do before drawing a single number).
//   npm run bench randomInit
import { performance } from 'node:perf_hooks';
import { GraphBuilder } from '../pipelines/kernels/onnxGraph.ts';
import { randomInitModel } from '../pipelines/model/randomInit.ts';
import { seededRandom } from '../pipelines/random.ts';

export async function run(): Promise<void> {
  const shapes: number[][] = [[4096, 4096], [4096, 4096], ...Array.from({ length: 8 }, () => [1024, 1024])];
  const g = new GraphBuilder('bench_model');
  g.input('x', 'float32', [1]);
  const rand = seededRandom(1);
  let out = 'x';
  const tensors: Float32Array[] = [];
  shapes.forEach((dims, i) => {
    const data = new Float32Array(dims[0]! * dims[1]!);
    for (let k = 0; k < data.length; k += 997) data[k] = rand() - 0.5; // sparse fill: generation is not what is timed
    tensors.push(data);
    const w = g.initializer(`w${i}`, { dtype: 'float32', dims, data });
    out = g.node('Add', [out, g.node('ReduceMean', [w], 1, { keepdims: 0 })]);
  });
  g.node('Identity', [out], ['y']);
  g.output('y', 'float32', [1]);
  const bytes = g.build();
  const elements = tensors.reduce((n, t) => n + t.length, 0);

  const t0 = performance.now();
  for (const t of tensors) {
    let s = 0, q = 0;
    for (let k = 0; k < t.length; k++) s += t[k]!;
    const m = s / t.length;
    for (let k = 0; k < t.length; k++) q += (t[k]! - m) ** 2;
    if (q < 0) throw new Error('unreachable');
  }
  const jsMs = performance.now() - t0;
  await randomInitModel(bytes, 'bench.onnx', 0); // warm: compute thread and ONNX Runtime start
  const t1 = performance.now();
  const r = await randomInitModel(bytes, 'bench.onnx', 1);
  const ortMs = performance.now() - t1;
  console.log(`random-init: ${r.tensors} tensors, ${(elements / 1e6).toFixed(1)} M floats (${(bytes.length / 2 ** 20).toFixed(0)} MiB ONNX)`);
  console.log(`  randomInitModel (decode, ORT draw, encode): ${ortMs.toFixed(0)} ms = ${(elements / ortMs / 1e3).toFixed(1)} M floats/s`);
  console.log(`  JS mean+sd pass alone (no draw):            ${jsMs.toFixed(0)} ms = ${(elements / jsMs / 1e3).toFixed(1)} M floats/s (random-init takes ${(ortMs / jsMs).toFixed(1)}× that)`);
}
