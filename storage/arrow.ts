// Arrow IPC (file format) for hot intermediate tensors: a chunk is one record batch of int32
// columns and fixed-size-list<float32> columns (one row per token, one list of width d per row).
// Encoding shares the caller's typed arrays (no copies); decoding returns views into the file
// bytes where Arrow's alignment allows it. Writes go through writeFileAtomic; a writer that wants
// to avoid even the one copy into a single file buffer takes the pieces (encodeArrowChunkParts).
import { readFile } from 'node:fs/promises';
import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  DataType,
  Precision,
  type Data,
} from 'apache-arrow';
import { writeFileAtomic } from './atomic.ts';

export type ArrowColumn =
  | { name: string; kind: 'int32'; data: Int32Array }
  /** rows × width, row-major. */
  | { name: string; kind: 'f32list'; width: number; data: Float32Array };

export interface ArrowChunk {
  numRows: number;
  columns: Map<string, ArrowColumn>;
  metadata: Map<string, string>;
}

export function encodeArrowChunk(columns: ArrowColumn[], metadata: Record<string, string> = {}): Uint8Array {
  return tableToIPC(chunkTable(columns, metadata), 'file');
}

/**
 * The same file as encodeArrowChunk, as the pieces that concatenate to it (framing, metadata and
 * views of the columns' own buffers, nothing copied): for a vectored write. The columns' arrays
 * must not change until the pieces are written.
 */
export async function encodeArrowChunkParts(columns: ArrowColumn[], metadata: Record<string, string> = {}): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  // writeAll on a table finishes synchronously; iterating drains the queued pieces (no I/O).
  for await (const part of RecordBatchFileWriter.writeAll(chunkTable(columns, metadata))) parts.push(part);
  return parts;
}

function chunkTable(columns: ArrowColumn[], metadata: Record<string, string>): Table {
  const numRows = columns.length ? rowsOf(columns[0]!) : 0;
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const c of columns) {
    if (rowsOf(c) !== numRows) throw new Error(`arrow: column ${c.name} has ${rowsOf(c)} rows, expected ${numRows}`);
    if (c.kind === 'int32') {
      fields.push(new Field(c.name, new Int32(), false));
      children.push(makeData({ type: new Int32(), length: numRows, nullCount: 0, data: c.data }));
    } else {
      const type = new FixedSizeList(c.width, new Field('item', new Float32(), false));
      fields.push(new Field(c.name, type, false));
      const child = makeData({ type: new Float32(), length: numRows * c.width, nullCount: 0, data: c.data });
      children.push(makeData({ type, length: numRows, nullCount: 0, child }));
    }
  }
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: numRows, nullCount: 0, children }));
  return new Table(schema, [batch]);
}

function rowsOf(c: ArrowColumn): number {
  return c.kind === 'int32' ? c.data.length : c.data.length / c.width;
}

export function decodeArrowChunk(bytes: Uint8Array): ArrowChunk {
  const table = tableFromIPC(bytes);
  const columns = new Map<string, ArrowColumn>();
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name)!;
    const type = field.type as DataType;
    if (DataType.isInt(type) && type.bitWidth === 32 && type.isSigned) {
      columns.set(field.name, { name: field.name, kind: 'int32', data: concatValues(vector.data.map((d) => (d.values as Int32Array).subarray(d.offset, d.offset + d.length)), Int32Array) });
    } else if (DataType.isFixedSizeList(type) && DataType.isFloat(type.children[0]!.type) && type.children[0]!.type.precision === Precision.SINGLE) {
      const width = type.listSize;
      const parts = vector.data.map((d) => (d.children[0]!.values as Float32Array).subarray(d.offset * width, (d.offset + d.length) * width));
      columns.set(field.name, { name: field.name, kind: 'f32list', width, data: concatValues(parts, Float32Array) });
    } else {
      throw new Error(`arrow: column ${field.name} has unsupported type ${String(type)}`);
    }
  }
  return { numRows: table.numRows, columns, metadata: table.schema.metadata };
}

function concatValues<T extends Int32Array | Float32Array>(parts: T[], ctor: { new (n: number): T }): T {
  if (parts.length === 1) return parts[0]!;
  const out = new ctor(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function writeArrowChunk(path: string, columns: ArrowColumn[], metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeArrowChunk(columns, metadata));
}

export async function readArrowChunk(path: string): Promise<ArrowChunk> {
  return decodeArrowChunk(await readFile(path));
}
