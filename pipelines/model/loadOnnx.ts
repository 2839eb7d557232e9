// Reads an ONNX model into its protobuf form (onnx-proto) with errors a user can act on.
// Out of scope for now: models stored with external data (the > 2 GB protobuf limit makes
// exporters split weights into side files); they are refused with a clear message.
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { UserInputError } from '../errors.ts';

export type ModelProto = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export const onnx = onnxProto.onnx;

export interface OnnxModel {
  path: string;
  bytes: Uint8Array;
  proto: ModelProto;
}

export async function loadOnnxModel(path: string): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new UserInputError(`cannot read ONNX model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  return { path, bytes, proto: decodeOnnx(bytes, path) };
}

export function decodeOnnx(bytes: Uint8Array, path: string): ModelProto {
  let proto: ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new UserInputError(`not a valid ONNX model (protobuf decode failed: ${(e as Error).message})`, path);
  }
  const graph = proto.graph;
  if (!graph || !graph.node || graph.node.length === 0 || !graph.output || graph.output.length === 0) {
    throw new UserInputError('not a valid ONNX model (no graph, nodes or outputs)', path);
  }
  if (graph.initializer?.some((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)) {
    throw new UserInputError('models with external data files (> 2 GB exports) are not supported yet', path);
  }
  return proto;
}

/** Element type names for the ONNX TensorProto data types ufg meets. */
export function elemTypeName(t: number | null | undefined): string {
  const D = onnx.TensorProto.DataType;
  switch (t) {
    case D.FLOAT: return 'float32';
    case D.FLOAT16: return 'float16';
    case D.BFLOAT16: return 'bfloat16';
    case D.DOUBLE: return 'float64';
    case D.INT64: return 'int64';
    case D.INT32: return 'int32';
    case D.BOOL: return 'bool';
    default: return `type${t ?? '?'}`;
  }
}

export interface IoDesc {
  name: string;
  dtype: string;
  dims: Array<number | string>;
}

export function describeIo(list: onnxProto.onnx.IValueInfoProto[] | null | undefined): IoDesc[] {
  return (list ?? []).map((v) => ({
    name: v.name ?? '',
    dtype: elemTypeName(v.type?.tensorType?.elemType),
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
  }));
}
