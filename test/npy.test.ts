import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy, parseNpy, readNpyMatrix, writeNpy } from '../pipelines/io/npy.ts';
import { mat } from '../pipelines/kernels/gemm.ts';

const dir = mkdtempSync(join(tmpdir(), 'ufg-npy-'));

test('npy round-trips f32 and f64 matrices and keeps the 64-byte header alignment', async () => {
  const m = mat(3, 4, Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 1));
  const p = join(dir, 'm.npy');
  await writeNpy(p, m);
  const back = await readNpyMatrix(p);
  assert.deepEqual([back.rows, back.cols], [3, 4]);
  assert.deepEqual(Array.from(back.data), Array.from(m.data));
  const bytes = encodeNpy(Float64Array.of(1.5, -2, 3), [3]);
  assert.equal((bytes.length - 24) % 64, 0);
  const a = parseNpy(bytes, 'x.npy');
  assert.equal(a.dtype, 'f8');
  assert.deepEqual(a.shape, [3]);
  assert.deepEqual(Array.from(a.data as Float64Array), [1.5, -2, 3]);
});

test('npy parses a hand-written v1 header with half floats', () => {
  const header = "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }";
  const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const bytes = new Uint8Array(10 + padded.length + 4);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, padded.length, true);
  bytes.set(new TextEncoder().encode(padded), 10);
  new DataView(bytes.buffer).setUint16(10 + padded.length, 0x3c00, true); // 1.0
  new DataView(bytes.buffer).setUint16(12 + padded.length, 0xc000, true); // -2.0
  const a = parseNpy(bytes, 'h.npy');
  assert.equal(a.dtype, 'f2');
  assert.deepEqual(Array.from(a.data as Uint16Array), [0x3c00, 0xc000]);
});

test('bad .npy input gives one clear error naming the file', async () => {
  const notNpy = join(dir, 'not.npy');
  writeFileSync(notNpy, 'hello world, not numpy');
  await assert.rejects(readNpyMatrix(notNpy), (e: Error) => e.name === 'UserInputError' && e.message.includes(notNpy) && /magic/.test(e.message));
  await assert.rejects(readNpyMatrix(join(dir, 'missing.npy')), /missing\.npy: file not found/);
  const truncated = join(dir, 'trunc.npy');
  const full = encodeNpy(new Float32Array(12), [3, 4]);
  writeFileSync(truncated, full.subarray(0, full.length - 8));
  await assert.rejects(readNpyMatrix(truncated), /trunc\.npy: truncated \.npy data/);
  const nan = join(dir, 'nan.npy');
  writeFileSync(nan, encodeNpy(Float32Array.of(1, NaN, 3, 4), [2, 2]));
  await assert.rejects(readNpyMatrix(nan), /nan\.npy: non-finite value \(NaN\) at row 0, column 1/);
  const vec = join(dir, 'vec.npy');
  writeFileSync(vec, encodeNpy(Float32Array.of(1, 2), [2]));
  await assert.rejects(readNpyMatrix(vec), /expected a 2-D matrix/);
});
