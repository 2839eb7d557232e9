// A randomly initialised copy of an ONNX model, the floor control of a sweep: every float32
// initializer is re-drawn from a normal with the tensor's own shape, mean and standard deviation
// (seeded), everything else (graph, int64 shape constants, names) kept. A tensor whose values are
// all equal (LayerNorm gains of 1, a scalar scale, an epsilon) has sd 0 and comes back unchanged.
// The draw runs as one ONNX Runtime graph (RandomNormalLike per tensor); its generator keeps state
// across runs of one session, so every copy gets a fresh session and the same seed gives the
// same copy (on the same ONNX Runtime build: its normal generator is the C++ standard library's).
import onnxProto from 'onnx-proto';
import { UserInputError } from '../errors.ts';
import { GraphBuilder } from '../kernels/onnxGraph.ts';
import { cachedSession, ort } from '../kernels/session.ts';
import { decodeOnnx, elemTypeName, onnx } from './loadOnnx.ts';

type TensorProto = onnxProto.onnx.ITensorProto;

export interface RandomInitResult {
  bytes: Uint8Array;
  /** Float initializers re-drawn, and their elements. */
  tensors: number;
  elements: number;
}

/** Per-tensor seeds: distinct for the first 2^24 tensors of a seed, exact in RandomNormalLike's float attribute. */
const tensorSeed = (seed: number, i: number) => (seed * 7919 + i) % 16_777_216;

function floatValues(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    // Copied into its own buffer: raw_data is a view into the decoded bytes (a Node Buffer's
    // slice shares them), not necessarily 4-byte aligned.
    const raw = new Uint8Array(t.rawData);
    return new Float32Array(raw.buffer, 0, raw.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

function drawGraph(sizes: number[], seed: number): Uint8Array {
  const g = new GraphBuilder('random_init');
  sizes.forEach((n, i) => {
    const x = g.input(`x${i}`, 'float32', [n]);
    const mean = g.node('ReduceMean', [x], 1, { keepdims: 1 });
    const d = g.node('Sub', [x, mean]);
    const sd = g.node('Sqrt', [g.node('ReduceMean', [g.node('Mul', [d, d])], 1, { keepdims: 1 })]);
    const r = g.node('RandomNormalLike', [x], 1, { seed: { float: tensorSeed(seed, i) } });
    g.node('Add', [g.node('Mul', [r, sd]), mean], [`y${i}`]);
    g.output(`y${i}`, 'float32', [n]);
  });
  return g.build();
}

let copies = 0;

/** The random-init copy of the model in `bytes` (read from `path`, named in errors). */
export async function randomInitModel(bytes: Uint8Array, path: string, seed: number): Promise<RandomInitResult> {
  const proto = decodeOnnx(bytes, path);
  const inits = proto.graph!.initializer ?? [];
  const D = onnx.TensorProto.DataType;
  const floats: TensorProto[] = [];
  for (const t of inits) {
    const n = (t.dims ?? []).reduce((a: number, b) => a * Number(b), 1);
    if (t.dataType === D.FLOAT && n > 0) floats.push(t);
    else if ((t.dataType === D.FLOAT16 || t.dataType === D.BFLOAT16 || t.dataType === D.DOUBLE) && n > 1) {
      throw new UserInputError(`controls.floor: initializer ${t.name} is ${elemTypeName(t.dataType)}; the random-init copy re-draws float32 weights only (export the model in float32)`, path);
    }
  }
  const values = floats.map(floatValues);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  values.forEach((v, i) => (feeds[`x${i}`] = new ort.Tensor('float32', v, [v.length])));
  const sizes = values.map((v) => v.length);
  // A fresh session per copy: RandomNormalLike's generator advances with every run of a session.
  const session = await cachedSession(`randomInit:${process.pid}:${++copies}`, () => drawGraph(sizes, seed));
  const out = await session.run(feeds);
  let elements = 0;
  floats.forEach((t, i) => {
    const y = out[`y${i}`]!.data as Float32Array;
    t.rawData = new Uint8Array(y.buffer, y.byteOffset, y.byteLength).slice();
    t.floatData = [];
    elements += y.length;
  });
  return { bytes: onnx.ModelProto.encode(proto).finish(), tensors: floats.length, elements };
}
