// Adds residual-stream tensors as graph outputs and prunes everything they do not need (the LM
// head is usually the most expensive matmul, and blocks after the deepest tap are wasted work).
// The tapped model is saved content-addressed: its file name is the sha256 of the original
// model's hash and the tap list, so the same request reuses the file and a different one never
// overwrites it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Bytes, writeFileAtomic } from '../../storage/atomic.ts';
import { onnx, type GraphProto, type ModelProto, type NodeProto, type OnnxModel } from './loadOnnx.ts';
import type { Tap } from './presets.ts';

export interface TappedModel {
  path: string;
  /** Output name per tap, in tap order (the tensor names themselves). */
  outputs: string[];
  /** sha256 of the original model file. */
  modelSha256: string;
}

export async function tapModel(model: OnnxModel, taps: readonly Tap[], cacheDir: string): Promise<TappedModel> {
  const modelSha256 = sha256Bytes(model.bytes); // the bytes are in memory already: no second read of a large model
  const outputs = [...new Set(taps.map((t) => t.tensor))];
  const key = sha256Bytes(JSON.stringify({ model: modelSha256, outputs, v: 1 }));
  const path = join(cacheDir, `${key}.onnx`);
  if (!existsSync(path)) await writeFileAtomic(path, tappedBytes(model.proto, outputs));
  return { path, outputs: taps.map((t) => t.tensor), modelSha256 };
}

/** The model with exactly `outputs` as graph outputs and only the nodes they depend on. */
export function tappedBytes(original: ModelProto, outputs: readonly string[]): Uint8Array {
  const proto = onnx.ModelProto.decode(onnx.ModelProto.encode(original).finish()); // deep copy
  const graph = proto.graph!;
  const typeOf = new Map<string, number>();
  for (const v of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const t = v.type?.tensorType?.elemType;
    if (v.name && t) typeOf.set(v.name, t);
  }
  graph.output = outputs.map((name) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: typeOf.get(name) ?? onnx.TensorProto.DataType.FLOAT } } }),
  );
  prune(graph, outputs);
  return onnx.ModelProto.encode(proto).finish();
}

function prune(graph: GraphProto, outputs: readonly string[]): void {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producer.set(o, i)));
  const keep = new Set<number>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const i = producer.get(t);
    if (i === undefined || keep.has(i)) continue;
    keep.add(i);
    stack.push(...needs(nodes[i]!));
  }
  graph.node = nodes.filter((_, i) => keep.has(i));
  const used = new Set(graph.node.flatMap(needs));
  graph.initializer = (graph.initializer ?? []).filter((t) => used.has(t.name ?? ''));
  // Graph inputs stay as they are: callers feed the same inputs as to the original model.
}

/** Names a node reads, including outer-scope names used inside If/Loop/Scan subgraphs. */
function needs(node: NodeProto): string[] {
  const names = (node.input ?? []).filter((x: string | null | undefined): x is string => !!x);
  for (const a of node.attribute ?? []) {
    for (const g of [a.g, ...(a.graphs ?? [])]) if (g) for (const n of g.node ?? []) names.push(...needs(n));
  }
  return names;
}
