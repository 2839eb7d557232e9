// The .npz reader on real numpy output (committed, see fixtures/npz/make_npz.py), on ZIP64
// archives, and on archives and members beyond 2 and 4 GiB (sparse files: nothing that large is
// written to disk).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32, crc32Portable } from '../pipelines/sae/crc32.ts';
import { loadSae } from '../pipelines/sae/loadSae.ts';
import { encodeNpy, npzDtype, npzTensorF32, openNpz } from '../pipelines/sae/npz.ts';
import { READ_PIECE_BYTES } from '../pipelines/sae/zipReader.ts';
import { npyBytes } from './fixtures/saes.ts';
import { crc32Zeros, writeZip, type ZipMemberSpec } from './fixtures/zipWriter.ts';

const NUMPY_DIR = join(import.meta.dirname, 'fixtures', 'npz');
const D = 4;
const F = 6;

/** The arrays make_npz.py writes (W_enc is d × F as Gemma Scope stores it). */
function expected(): Record<'W_enc' | 'b_enc' | 'W_dec' | 'b_dec' | 'threshold', Float32Array> {
  return {
    W_enc: Float32Array.from({ length: D * F }, (_, i) => ((i % 7) - 3) / 4),
    b_enc: Float32Array.from({ length: F }, (_, j) => j / 8 - 0.25),
    W_dec: Float32Array.from({ length: F * D }, (_, i) => ((i % 5) - 2) / 2),
    b_dec: Float32Array.from({ length: D }, (_, c) => c / 4),
    threshold: Float32Array.from({ length: F }, (_, j) => 0.125 * (j + 1)),
  };
}

function saeMembers(method: 0 | 8): ZipMemberSpec[] {
  const e = expected();
  const shapes = { W_enc: [D, F], b_enc: [F], W_dec: [F, D], b_dec: [D], threshold: [F] };
  return Object.entries(e).map(([name, data]) => ({ name: `${name}.npy`, method, content: [npyBytes(shapes[name as keyof typeof shapes], data, 'f32')] }));
}

async function assertLoadsExpected(path: string, dtype: string): Promise<void> {
  const sae = await loadSae(path);
  const e = expected();
  assert.equal(sae.dIn, D);
  assert.equal(sae.numFeatures, F);
  assert.equal(sae.source.layout, 'gemmascope');
  assert.equal(sae.source.dtype, dtype);
  // loadSae holds the encoder as F × d: W_enc transposed.
  const wEnc = Float32Array.from({ length: F * D }, (_, i) => e.W_enc[(i % D) * F + Math.floor(i / D)]!);
  assert.deepEqual(Array.from(sae.wEnc), Array.from(wEnc), `${path} W_enc`);
  assert.deepEqual(Array.from(sae.bEnc), Array.from(e.b_enc), `${path} b_enc`);
  assert.deepEqual(Array.from(sae.wDec), Array.from(e.W_dec), `${path} W_dec`);
  assert.deepEqual(Array.from(sae.bDec), Array.from(e.b_dec), `${path} b_dec`);
  assert.equal(sae.activation.kind, 'jumprelu');
  if (sae.activation.kind === 'jumprelu') assert.deepEqual(Array.from(sae.activation.threshold), Array.from(e.threshold));
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ufg-npz-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('CRC-32: the table-driven fallback equals zlib, chained; the zero-run helper equals CRC over zeros', () => {
  for (const n of [0, 1, 3, 255, 4096, 100_003]) {
    const b = randomBytes(n);
    assert.equal(crc32Portable(b), crc32(b), `n=${n}`);
    const cut = Math.floor(n / 3);
    assert.equal(crc32Portable(b.subarray(cut), crc32Portable(b.subarray(0, cut))), crc32(b), `chained n=${n}`);
  }
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the CRC-32 check value
  if (typeof zlib.crc32 === 'function') assert.equal(crc32(Buffer.from('hello')), zlib.crc32('hello'));
  for (const n of [0, 1, 7, 1000, 65_537]) {
    const start = crc32(Buffer.from('prefix'));
    assert.equal(crc32Zeros(start, n), crc32(new Uint8Array(n), start), `zeros n=${n}`);
  }
});

test('numpy-written params.npz (np.savez stored, np.savez_compressed deflated; f32/f16/bf16) load exactly', async () => {
  const dtypes = { f32: '<f4', f16: '<f2', bf16: '<V2' };
  for (const [kind, descr] of Object.entries(dtypes)) {
    await assertLoadsExpected(join(NUMPY_DIR, `savez_${kind}.npz`), descr);
    await assertLoadsExpected(join(NUMPY_DIR, `savez_compressed_${kind}.npz`), descr);
  }
});

test('ZIP64 everywhere (extra fields in local and central headers, ZIP64 end record) reads, stored and deflated', async () => {
  for (const method of [0, 8] as const) {
    const folder = join(dir, `zip64-${method}`, 'layer_3', 'width_16k', 'average_l0_50');
    await mkdir(folder, { recursive: true });
    const file = join(folder, 'params.npz');
    await writeZip(file, saeMembers(method), 'everywhere');
    await assertLoadsExpected(file, '<f4');
    assert.equal((await loadSae(file)).source.hookpoint?.block, 3);
  }
});

test('an archive beyond 4 GiB (ZIP64 offsets and end record) and a stored member beyond 2 GiB read piecewise', async () => {
  // big.npy: 2 GiB + 16 MiB of f32 zeros (three read pieces) with markers at the start, just past
  // 2 GiB and at the end; pad.npy pushes the SAE members past 4 GiB. Both are holes of a sparse file.
  const bigCount = (2 ** 31 + 2 ** 24) / 4;
  const markers = new Map([
    [0, 1.5],
    [2 ** 29 + 5, -2.25],
    [bigCount - 1, 3.75],
  ]);
  const bigHeader = encodeNpy([bigCount], new Uint8Array(0), '<f4');
  const content: Array<Uint8Array | number> = [bigHeader];
  let at = 0;
  for (const [index, value] of markers) {
    content.push(4 * (index - at), new Uint8Array(Float32Array.of(value).buffer));
    at = index + 1;
  }
  const padBytes = 2 ** 31;
  const members: ZipMemberSpec[] = [
    { name: 'big.npy', method: 0, content },
    { name: 'pad.npy', method: 0, content: [encodeNpy([padBytes / 4], new Uint8Array(0), '<f4'), padBytes] },
    ...saeMembers(0),
    ...saeMembers(8).map((m) => ({ ...m, name: `deflated_${m.name}` })),
  ];
  const file = join(dir, 'huge', 'params.npz');
  await mkdir(join(dir, 'huge'), { recursive: true });
  await writeZip(file, members, 'numpy');
  const size = (await stat(file)).size;
  assert.ok(size > 2 ** 32, `archive is ${size} bytes`);
  assert.ok((await stat(file)).blocks * 512 < 2 ** 26, 'sparse on disk');

  const npz = await openNpz(file);
  assert.ok(npz.members.get('W_enc')!.localHeaderOffset > 2 ** 32, 'SAE members lie past 4 GiB');
  const e = expected();
  for (const name of ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'] as const) {
    assert.deepEqual(Array.from((await npzTensorF32(npz, name)).data), Array.from(e[name]), name);
    assert.deepEqual(Array.from((await npzTensorF32(npz, `deflated_${name}`)).data), Array.from(e[name]), `deflated ${name}`);
  }

  assert.ok(bigCount * 4 > 2 * READ_PIECE_BYTES, 'big.npy takes more than two read pieces');
  const big = await npzTensorF32(npz, 'big');
  assert.deepEqual(big.shape, [bigCount]);
  assert.equal(big.data.length, bigCount);
  for (const [index, value] of markers) assert.equal(big.data[index], value, `big[${index}]`);
  for (const index of [1, 2 ** 29 + 4, 2 ** 29 + 6, bigCount - 2]) assert.equal(big.data[index], 0, `big[${index}]`);
  assert.equal(npzDtype(npz, 'big'), '<f4');
});
