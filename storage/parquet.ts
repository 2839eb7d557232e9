// Parquet tables (results, feature statistics, labels): people open these in pandas, DuckDB or
// Arrow, so columns get explicit physical types and are written non-nullable. Writer:
// hyparquet-writer, reader: hyparquet (pure JS, maintained, no native build). Lists are stored as
// numbered columns (`top_position_1`, …) which every reader understands. Writes are atomic.
import { readFile } from 'node:fs/promises';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { writeFileAtomic } from './atomic.ts';

export type ParquetColumn =
  | { name: string; type: 'INT32'; data: Int32Array | number[] }
  | { name: string; type: 'INT64'; data: BigInt64Array | bigint[] }
  | { name: string; type: 'FLOAT'; data: Float32Array | number[] }
  | { name: string; type: 'DOUBLE'; data: Float64Array | number[] }
  | { name: string; type: 'STRING'; data: string[] }
  | { name: string; type: 'BOOLEAN'; data: boolean[] };

export type ParquetValue = number | bigint | string | boolean | null;

export interface ParquetTable {
  numRows: number;
  columns: Record<string, ParquetValue[]>;
  /** Key-value metadata written with the table. */
  kv: Record<string, string>;
}

export function encodeParquetTable(columns: ParquetColumn[], kv: Record<string, string> = {}): Uint8Array {
  const n = columns[0]?.data.length ?? 0;
  const names = new Set<string>();
  for (const c of columns) {
    if (c.data.length !== n) throw new Error(`parquet: column ${c.name} has ${c.data.length} rows, expected ${n}`);
    if (names.has(c.name)) throw new Error(`parquet: duplicate column ${c.name}`);
    names.add(c.name);
  }
  const buf = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, type: c.type, data: Array.isArray(c.data) ? c.data : Array.from(c.data as ArrayLike<number | bigint>), nullable: false })),
    kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
    createdBy: 'ufg',
  });
  return new Uint8Array(buf);
}

/** Writes columns (all the same length) to `path` atomically (temp file + fsync + rename). */
export async function writeParquetTable(path: string, columns: ParquetColumn[], kv: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, encodeParquetTable(columns, kv));
}

/** Reads a whole (small) table column-wise. INT64 columns come back as bigint. */
export async function readParquetTable(path: string): Promise<ParquetTable> {
  const bytes = await readFile(path);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const file = { byteLength: ab.byteLength, slice: (s: number, e?: number) => ab.slice(s, e) };
  const rows = (await parquetReadObjects({ file })) as Record<string, ParquetValue>[];
  const columns: Record<string, ParquetValue[]> = {};
  const meta = parquetMetadata(ab);
  for (const child of parquetSchema(meta).children) columns[child.element.name] = rows.map((r) => r[child.element.name] ?? null);
  const kv: Record<string, string> = {};
  for (const e of meta.key_value_metadata ?? []) kv[e.key] = e.value ?? '';
  return { numRows: rows.length, columns, kv };
}
