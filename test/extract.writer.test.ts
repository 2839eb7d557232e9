// The pieces under extraction's throughput work: the background chunk writer (durable, ordered,
// failures stop later chunks, buffers written in place), Arrow piecewise encoding, the branch-free
// finiteness check and the gathering of real positions.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserInputError } from '../pipelines/errors.ts';
import { ChunkWriter } from '../pipelines/extract/chunkWriter.ts';
import { allFinite, gatherValid } from '../pipelines/extract/forward.ts';
import { seededRandom } from '../pipelines/random.ts';
import { makeBatches } from '../pipelines/tokenize/batches.ts';
import { planChunks } from '../pipelines/extract/layout.ts';
import { decodeArrowChunk, encodeArrowChunk, encodeArrowChunkParts, type ArrowColumn } from '../storage/arrow.ts';

const made: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'ufg-extract-writer-'));
  made.push(d);
  return d;
};
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

function columns(seed: number, rows: number, width: number): ArrowColumn[] {
  const rand = seededRandom(seed);
  // Views at odd offsets into larger buffers, as reused chunk buffers are.
  const f = new Float32Array(rows * width + 7).map(() => rand() * 2 - 1).subarray(3, 3 + rows * width);
  const ids = new Int32Array(rows + 5).map(() => Math.floor(rand() * 1000)).subarray(1, 1 + rows);
  return [
    { name: 'token_id', kind: 'int32', data: ids },
    { name: 'layer_1', kind: 'f32list', width, data: f },
  ];
}

const tempFiles = async (dir: string) => (await readdir(dir)).filter((f) => f.includes('.tmp-'));

test('arrow: the pieces of encodeArrowChunkParts concatenate to exactly encodeArrowChunk', async () => {
  for (const [rows, width] of [[1, 1], [37, 5], [1000, 96]] as const) {
    const cols = columns(rows, rows, width);
    const whole = encodeArrowChunk(cols, { format: 'f', fingerprint: 'x' });
    const parts = await encodeArrowChunkParts(cols, { format: 'f', fingerprint: 'x' });
    assert.ok(parts.length > 1);
    assert.deepEqual(Buffer.concat(parts), Buffer.from(whole));
  }
});

test('chunk writer: files decode to what was written, in place, once the next write has started', async () => {
  const dir = await tmp();
  const w = new ChunkWriter(dir);
  const a = columns(1, 300, 16);
  const expectA = encodeArrowChunk(a, { k: 'a' });
  const done: string[] = [];
  await w.write(join(dir, 'a.arrow'), a, { k: 'a' }, () => void done.push('a'));
  const b = columns(2, 200, 16);
  const expectB = encodeArrowChunk(b, { k: 'b' });
  await w.write(join(dir, 'b.arrow'), b, { k: 'b' }, () => void done.push('b'));
  // The second write has begun, so the first is complete: its buffers are free again.
  assert.deepEqual(done, ['a']);
  assert.deepEqual(await readFile(join(dir, 'a.arrow')), Buffer.from(expectA));
  (a[1]!.data as Float32Array).fill(NaN);
  await w.finish({ path: join(dir, 'index.json'), bytes: new TextEncoder().encode('{"done":true}\n') });
  assert.deepEqual(done, ['a', 'b']);
  assert.deepEqual(await readFile(join(dir, 'a.arrow')), Buffer.from(expectA));
  assert.deepEqual(await readFile(join(dir, 'b.arrow')), Buffer.from(expectB));
  assert.equal(await readFile(join(dir, 'index.json'), 'utf8'), '{"done":true}\n');
  const back = decodeArrowChunk(await readFile(join(dir, 'b.arrow')));
  assert.equal(back.numRows, 200);
  assert.deepEqual(back.columns.get('layer_1')!.data, b[1]!.data);
  assert.deepEqual(await tempFiles(dir), []);
});

test('chunk writer: a failed callback stops the next chunk and the final file; nothing half-written stays', async () => {
  const dir = await tmp();
  const w = new ChunkWriter(dir);
  await w.write(join(dir, 'a.arrow'), columns(3, 50, 4), {}, () => {
    throw new Error('heartbeat failed');
  });
  await assert.rejects(w.write(join(dir, 'b.arrow'), columns(4, 50, 4), {}), /heartbeat failed/);
  await assert.rejects(w.finish({ path: join(dir, 'index.json'), bytes: new Uint8Array(3) }), /heartbeat failed/);
  assert.deepEqual((await readdir(dir)).sort(), ['a.arrow']);
});

test('chunk writer: a write that cannot happen surfaces at finish, with no file and no callback', async () => {
  const dir = await tmp();
  const w = new ChunkWriter(dir);
  let called = false;
  await w.write(join(dir, 'missing-subdir', 'a.arrow'), columns(5, 10, 2), {}, () => void (called = true));
  await assert.rejects(w.finish({ path: join(dir, 'index.json'), bytes: new Uint8Array(1) }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  assert.equal(called, false);
  assert.deepEqual(await readdir(dir), []);
  // A failing predecessor (the plan write) also stops the first chunk.
  const w2 = new ChunkWriter(dir, Promise.reject(new Error('plan not written')));
  await assert.rejects(w2.write(join(dir, 'a.arrow'), columns(6, 10, 2), {}), /plan not written/);
  assert.deepEqual(await readdir(dir), []);
});

test('allFinite agrees with a per-element check on random ranges with NaN, ±Inf, -0, extremes', () => {
  const rand = seededRandom(42);
  const specials = [NaN, Infinity, -Infinity];
  for (let trial = 0; trial < 400; trial++) {
    const n = 1 + Math.floor(rand() * 40);
    const a = Float32Array.from({ length: n }, () => [rand() - 0.5, -0, 3.4e38, -3.4e38, 1e-45][Math.floor(rand() * 5)]!);
    if (rand() < 0.6) a[Math.floor(rand() * n)] = specials[Math.floor(rand() * 3)]!;
    const from = Math.floor(rand() * n);
    const to = from + Math.floor(rand() * (n - from + 1));
    const expected = Array.from(a.subarray(from, to)).every(Number.isFinite);
    assert.equal(allFinite(a, from, to), expected, `trial ${trial}: [${Array.from(a)}] [${from}, ${to})`);
  }
});

test('gatherValid: copies only real positions; NaN in padding is ignored, in a real token named', () => {
  const [batch] = makeBatches([{ docId: 7, ids: Int32Array.of(1, 2, 3) }, { docId: 9, ids: Int32Array.of(4) }], 2, 0);
  const width = 2;
  // [rows=2, seqLen=3, width=2]; value = 10·row + position + feature/10; padding NaN.
  const values = Float32Array.from({ length: 12 }, (_, i) => {
    const r = Math.floor(i / 6), p = Math.floor(i / 2) % 3, f = i % 2;
    return r === 1 && p > 0 ? NaN : 10 * r + p + f / 10;
  });
  const dest = new Float32Array(2 + 4 * width).fill(-1);
  gatherValid(values, width, batch!, dest, 1, 't', 'm.onnx');
  assert.deepEqual(Array.from(dest), [-1, -1, 0, 0.1, 1, 1.1, 2, 2.1, 10, 10.1].map(Math.fround));
  values[3] = Infinity; // row 0, position 1
  assert.throws(
    () => gatherValid(values, width, batch!, dest, 0, 't', 'm.onnx'),
    (e: unknown) => isUserInputError(e) && /m\.onnx: non-finite activation \(Infinity\) in t at document 7, position 1/.test((e as Error).message),
  );
});

test('gatherValid with special tokens excluded: only written positions, in order; NaN at a left-out BOS is ignored, after it named by its true position', () => {
  // Token 1 is "BOS": excluded at position 0 of both rows (and typed inside row 0 at position 2).
  const [batch] = makeBatches([{ docId: 3, ids: Int32Array.of(1, 5, 1, 6) }, { docId: 4, ids: Int32Array.of(1, 7) }], 2, 0, new Set([1]));
  assert.equal(batch!.numTokens, 3);
  assert.equal(batch!.numSpecial, 3);
  assert.deepEqual(Array.from(batch!.written), [0, 1, 0, 1, 0, 1, 0, 0]);
  const width = 1;
  const values = Float32Array.of(NaN, 1, NaN, 3, NaN, 11, NaN, NaN); // [2, 4, 1]
  const dest = new Float32Array(3);
  gatherValid(values, width, batch!, dest, 0, 't', 'm.onnx');
  assert.deepEqual(Array.from(dest), [1, 3, 11]);
  values[3] = NaN;
  assert.throws(() => gatherValid(values, width, batch!, dest, 0, 't', 'm.onnx'), /at document 3, position 3/);
});

test('planChunks: trailing batches without a written token join the last chunk (no empty chunk file)', () => {
  const chunks = planChunks([5, 0, 0], 5);
  assert.deepEqual(chunks.map((c) => [c.firstBatch, c.numBatches, c.numTokens]), [[0, 3, 5]]);
  assert.deepEqual(planChunks([3, 0, 4], 5).map((c) => [c.firstBatch, c.numBatches, c.numTokens]), [[0, 3, 7]]);
});
