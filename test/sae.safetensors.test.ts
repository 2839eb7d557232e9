import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUserInputError } from '../pipelines/errors.ts';
import { bf16ToNumber, f16ToNumber, f32ToHalf, halfToF32, numberToBf16, numberToF16 } from '../pipelines/sae/halfFloat.ts';
import { encodeSafetensors, parseSafetensors, tensorF32 } from '../pipelines/sae/safetensors.ts';

const FILE = '/data/sae/layers.3/sae.safetensors';

function rawFile(header: object, dataBytes: number, headerLenOverride?: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLenOverride ?? json.byteLength), true);
  out.set(json, 8);
  return out;
}

function assertUserError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isUserInputError(e), `expected UserInputError, got ${String(e)}`);
    assert.ok((e as Error).message.includes(FILE), `message names the file: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('half-float conversions match IEEE 754 bit patterns', () => {
  assert.equal(numberToF16(1), 0x3c00);
  assert.equal(numberToF16(-2), 0xc000);
  assert.equal(numberToF16(65504), 0x7bff);
  assert.equal(numberToF16(1e6), 0x7c00); // overflow → +inf
  assert.equal(numberToF16(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(f16ToNumber(0x3555), 0.333251953125);
  assert.equal(f16ToNumber(0x0001), 2 ** -24);
  assert.equal(numberToBf16(1), 0x3f80);
  assert.equal(bf16ToNumber(0x4049), 3.140625);
  // Round to nearest even: 1 + 2^-8 is halfway between two bf16 values and rounds to 1.
  assert.equal(numberToBf16(1 + 2 ** -8), 0x3f80);
  assert.equal(numberToBf16(1 + 3 * 2 ** -8), 0x3f82);
  // Every f16 bit pattern survives a round trip through f32 (NaNs aside).
  for (let h = 0; h < 0x10000; h += 7) {
    const v = f16ToNumber(h);
    if (!Number.isNaN(v)) assert.equal(numberToF16(v), h, `f16 0x${h.toString(16)}`);
  }
});

test('f32/f16/bf16 tensors round-trip through the writer and parser', () => {
  const values = Float32Array.from([0, 1, -1.5, 0.1, 3.75, -1024, 1e-3, 7]);
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    const bytes = encodeSafetensors({ w: { dtype, shape: [2, 4], data: values }, b: { dtype, shape: [3], data: values.subarray(0, 3) } });
    const st = parseSafetensors(bytes, FILE);
    const w = tensorF32(st, 'w');
    assert.deepEqual(w.shape, [2, 4]);
    const tol = dtype === 'F32' ? 0 : dtype === 'F16' ? 1e-3 : 8e-3;
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(w.data[i]! - values[i]!) <= tol * Math.max(1, Math.abs(values[i]!)), `${dtype} ${i}`);
    assert.deepEqual(Array.from(tensorF32(st, 'b').data), Array.from(w.data.subarray(0, 3)));
  }
  const half = f32ToHalf(values, 'bf16');
  assert.deepEqual(Array.from(halfToF32(half, 'bf16')), Array.from(values).map((v) => bf16ToNumber(numberToBf16(v))));
});

test('header length beyond the file is a UserInputError naming the file', () => {
  assertUserError(() => parseSafetensors(rawFile({}, 0, 10_000), FILE), /header length 10000 runs past the end/);
  assertUserError(() => parseSafetensors(new Uint8Array(5), FILE), /at least 8/);
});

test('data_offsets overrunning the file or overlapping are rejected', () => {
  assertUserError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), FILE), /overrun the data section/);
  const overlap = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
  assertUserError(() => parseSafetensors(rawFile(overlap, 12), FILE), /overlapping/);
});

test('unknown dtype, shape/byte-count mismatch, bad JSON and a missing tensor are rejected', () => {
  assertUserError(() => parseSafetensors(rawFile({ w: { dtype: 'I8', shape: [4], data_offsets: [0, 4] } }, 4), FILE), /unsupported dtype "I8"/);
  assertUserError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, 16), FILE), /needs 12 bytes but data_offsets span 16/);
  const bad = new Uint8Array(8 + 3);
  new DataView(bad.buffer).setBigUint64(0, 3n, true);
  bad.set(new TextEncoder().encode('{x:'), 8);
  assertUserError(() => parseSafetensors(bad, FILE), /not valid JSON/);
  const st = parseSafetensors(encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } }), FILE);
  assertUserError(() => tensorF32(st, 'W_dec'), /missing tensor "W_dec"/);
});
