import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Bytes, sha256File, writeFileAtomic, writeJsonAtomic } from '../storage/atomic.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ufg-atomic-'));

test('sha256 of known vectors (FIPS 180-2 "abc" and empty)', async () => {
  assert.equal(sha256Bytes('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Bytes(new Uint8Array(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const dir = tmp();
  writeFileSync(join(dir, 'abc'), 'abc');
  assert.equal(await sha256File(join(dir, 'abc')), sha256Bytes('abc'));
});

test('sha256File streams a multi-chunk file to the same digest as hashing it whole', async () => {
  const dir = tmp();
  const data = new Uint8Array(3 * (1 << 20) + 12345);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(dir, 'big'), data);
  assert.equal(await sha256File(join(dir, 'big')), createHash('sha256').update(data).digest('hex'));
});

test('writeFileAtomic creates parents, replaces content and leaves no temp files', async () => {
  const dir = tmp();
  const p = join(dir, 'a', 'b', 'f.txt');
  await writeFileAtomic(p, 'first');
  await writeFileAtomic(p, new TextEncoder().encode('second'));
  assert.equal(readFileSync(p, 'utf8'), 'second');
  assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['f.txt']);
  await writeJsonAtomic(join(dir, 'x.json'), { b: 1, a: [1, 2] });
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'x.json'), 'utf8')), { b: 1, a: [1, 2] });
});

test('concurrent atomic writers to one path leave one complete version, never a mix', async () => {
  const dir = tmp();
  const p = join(dir, 'f');
  const versions = Array.from({ length: 8 }, (_, i) => String(i).repeat(200_000));
  await Promise.all(versions.map((v) => writeFileAtomic(p, v)));
  assert.ok(versions.includes(readFileSync(p, 'utf8')));
  assert.deepEqual(readdirSync(dir), ['f']);
});
