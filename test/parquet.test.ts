import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parquetMetadata, parquetSchema } from 'hyparquet';
import { readParquetTable, writeParquetTable } from '../storage/parquet.ts';

test('every column type round-trips with its physical type and metadata', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ufg-parquet-'));
  try {
    const path = join(dir, 'sub', 't.parquet');
    const n = 1500; // more than one default row group (1000)
    const ints = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 100_003 - 50_000);
    const big = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 3_000_000_000n - 7n);
    const dbl = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1e6 + 1e-9 * i);
    const flt = Float32Array.from({ length: n }, (_, i) => Math.fround(i / 3));
    const str = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `wörd ${i}` : i % 3 === 1 ? '' : 'dup'));
    const bool = Array.from({ length: n }, (_, i) => i % 5 === 0);
    await writeParquetTable(
      path,
      [
        { name: 'i32', type: 'INT32', data: ints },
        { name: 'i64', type: 'INT64', data: big },
        { name: 'f64', type: 'DOUBLE', data: dbl },
        { name: 'f32', type: 'FLOAT', data: flt },
        { name: 's', type: 'STRING', data: str },
        { name: 'b', type: 'BOOLEAN', data: bool },
      ],
      { artifact: 'abc123' },
    );
    const t = await readParquetTable(path);
    assert.equal(t.numRows, n);
    assert.deepEqual(t.columns.i32, Array.from(ints));
    assert.deepEqual(t.columns.i64, Array.from(big));
    assert.deepEqual(t.columns.f64, Array.from(dbl));
    assert.deepEqual(t.columns.f32, Array.from(flt));
    assert.deepEqual(t.columns.s, str);
    assert.deepEqual(t.columns.b, bool);
    assert.equal(t.kv.artifact, 'abc123');
    const bytes = await readFile(path);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const types = Object.fromEntries(parquetSchema(meta).children.map((c) => [c.element.name, c.element.type]));
    assert.deepEqual(types, { i32: 'INT32', i64: 'INT64', f64: 'DOUBLE', f32: 'FLOAT', s: 'BYTE_ARRAY', b: 'BOOLEAN' });
    assert.ok(parquetSchema(meta).children.every((c) => c.element.repetition_type === 'REQUIRED'));
    // Rewriting replaces the file whole and leaves no temp file.
    await writeParquetTable(path, [{ name: 'x', type: 'INT32', data: [1, 2] }]);
    assert.deepEqual((await readParquetTable(path)).columns, { x: [1, 2] });
    assert.deepEqual(await readdir(join(dir, 'sub')), ['t.parquet']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('columns of different lengths or duplicate names are refused before writing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ufg-parquet-'));
  try {
    await assert.rejects(
      writeParquetTable(join(dir, 'bad.parquet'), [
        { name: 'a', type: 'INT32', data: [1, 2, 3] },
        { name: 'b', type: 'DOUBLE', data: [1, 2] },
      ]),
      /column b has 2 rows, expected 3/,
    );
    await assert.rejects(
      writeParquetTable(join(dir, 'dup.parquet'), [
        { name: 'a', type: 'INT32', data: [1] },
        { name: 'a', type: 'INT32', data: [2] },
      ]),
      /duplicate column a/,
    );
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
