// Typed JSON (checkpoints): the streamed file is byte for byte the in-memory blob, and both decode
// to the value, typed arrays (views into larger buffers included) with their kinds and contents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTypedJson, encodeTypedJson, writeTypedJsonFile } from '../storage/typedJson.ts';

test('writeTypedJsonFile writes encodeTypedJson\'s bytes, which decode to the value', () => {
  const big = new Float32Array(1001).map((_, i) => i / 7);
  const value = {
    rowsDone: 3,
    name: 'état', // multi-byte UTF-8 in the header
    acc: big.subarray(5, 1000), // a view that does not start its buffer
    sums: Float64Array.of(1.5, -2, Number.MAX_VALUE),
    ids: Int32Array.of(7, -1),
    pos: BigInt64Array.of(1n, 2n ** 40n),
    flags: Uint8Array.of(1, 0, 1), // odd length: padded
    nested: [{ v: Float32Array.of(Math.PI) }],
  };
  const dir = mkdtempSync(join(tmpdir(), 'ufg-typed-'));
  try {
    const file = join(dir, 'state.bin');
    writeTypedJsonFile(file, value);
    const blob = encodeTypedJson(value);
    const written = new Uint8Array(readFileSync(file));
    assert.equal(written.byteLength, blob.byteLength);
    assert.deepEqual(written, blob);
    assert.equal(blob.byteLength % 8, 0);
    const back = decodeTypedJson<typeof value>(written);
    assert.deepEqual(back, { ...value, acc: big.slice(5, 1000) });
    assert.ok(back.pos instanceof BigInt64Array && back.flags instanceof Uint8Array);
    // Rewriting a shorter state replaces the file rather than leaving the old tail.
    writeTypedJsonFile(file, { rowsDone: 4 });
    assert.deepEqual(decodeTypedJson(new Uint8Array(readFileSync(file))), { rowsDone: 4 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
