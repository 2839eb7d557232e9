// A full disk on a real, small filesystem (a 2 MB tmpfs mounted for the test; the test runs as
// root, as our machines do): one clear line naming the store and the bytes needed, nothing
// deleted, and once space is freed the retry finishes from the kept staging without recomputing.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactId, codeVersionFor } from '../storage/artifactId.ts';
import { asStoreFull, formatBytes, StoreFullError } from '../storage/diskFull.ts';
import { chunkFileName, persistedChunkCount, produceArtifact } from '../storage/produce.ts';
import { LocalDirStore, type ArtifactWriter } from '../storage/store.ts';

const spec = { stage: 'extract', codeVersion: codeVersionFor('extract'), params: { layer: 5 }, inputs: ['source-00000000000000cc'] };
const id = artifactId(spec);
const CHUNK_BYTES = 100_000;
const chunk = (i: number) => new Uint8Array(CHUNK_BYTES).fill(i + 1);

function chunkedWork(counter: { computed: number }, n: number) {
  return async (w: ArtifactWriter) => {
    const from = await persistedChunkCount(w, 'chunk', '.bin');
    for (let i = from; i < n; i++) {
      await w.writeFile(chunkFileName('chunk', i, '.bin'), chunk(i));
      counter.computed++;
    }
    return { counts: { chunks: n } };
  };
}

/** A 2 MB tmpfs, unmounted after the test. */
function smallFilesystem(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ufg-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `this test needs a small real filesystem: 'mount -t tmpfs' failed (${r.stderr.trim() || r.error}); run the tests as root`);
  t.after(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the filesystem with 64 kB files until a write fails; returns them (delete some to free space). */
function fill(dir: string): string[] {
  const block = new Uint8Array(65_536).fill(0xee);
  const files: string[] = [];
  for (let i = 0; ; i++) {
    const path = join(dir, `filler-${i}`);
    const fd = openSync(path, 'w');
    files.push(path);
    try {
      writeSync(fd, block);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
      return files;
    } finally {
      closeSync(fd);
    }
  }
}

test('ENOSPC while committing: one line naming the store and the bytes needed; after freeing space the retry publishes the kept chunks, nothing recomputed', async (t) => {
  const fs = smallFilesystem(t);
  const store = new LocalDirStore(join(fs, 'store'));
  const first = { computed: 0 };
  const w = (await store.begin(id)).writer!;
  const info = await chunkedWork(first, 4)(w);
  const filler = fill(fs);

  const err = await w.commit({ ...spec, ...info }).then(
    () => assert.fail('commit on a full disk succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StoreFullError, String(err));
  assert.equal(err.message.split('\n').length, 1, 'one line');
  assert.match(err.message, new RegExp(`^store ${store.root} is out of disk space \\(ENOSPC\\): publishing ${id} \\(manifest of 4 files, 400\\.0 kB already staged\\) needs \\d+(\\.\\d)? k?B more \\(${formatBytes(statfsSync(fs).bsize).replace('.', '\\.')} in ${statfsSync(fs).bsize}-byte blocks\\), 0 B free; staged files are kept in ${store.stagingDir(id)}/\\S+ and the next attempt resumes from them; free space and retry$`));
  assert.ok(err.bytesNeeded! > 500 && err.bytesNeeded! < 5000, `bytes needed: ${err.bytesNeeded}`);
  assert.notEqual(err.name, 'UserInputError', 'retryable');
  assert.equal(await store.has(id), false);
  const [folder] = readdirSync(store.stagingDir(id), { withFileTypes: true }).filter((e) => e.isDirectory());
  assert.equal(readdirSync(join(store.stagingDir(id), folder!.name)).length, 4, 'every chunk kept');

  for (const f of filler) rmSync(f);
  const retry = { computed: 0 };
  const r = await produceArtifact(store, spec, chunkedWork(retry, 4));
  assert.equal(retry.computed, 0, 'nothing recomputed');
  assert.equal(r.reused, false);
  const clean = await produceArtifact(new LocalDirStore(mkdtempSync(join(tmpdir(), 'ufg-clean-'))), spec, chunkedWork({ computed: 0 }, 4));
  assert.deepEqual(r.manifest.files, clean.manifest.files);
  assert.deepEqual(r.manifest.counts, clean.manifest.counts);
  assert.equal(await store.has(id), true);
});

test('ENOSPC while writing a chunk: a retryable StoreFullError naming the chunk size; the retry computes only the chunks that did not fit', async (t) => {
  const fs = smallFilesystem(t);
  const store = new LocalDirStore(join(fs, 'store'));
  await store.begin(artifactId({ ...spec, params: { warmup: true } })).then((b) => b.writer!.abandon()); // the store's folders exist
  const filler = fill(fs);
  for (const f of filler.slice(0, 4)) rmSync(f); // 256 kB free: two chunks fit, the third does not
  const first = { computed: 0 };
  await assert.rejects(produceArtifact(store, spec, chunkedWork(first, 5)), (e: unknown) => {
    assert.ok(e instanceof StoreFullError, String(e));
    assert.match(e.message, new RegExp(`^store ${store.root} is out of disk space \\(ENOSPC\\): writing chunk-000002\\.bin of ${id} needs 100\\.0 kB more \\(${formatBytes(Math.ceil(CHUNK_BYTES / statfsSync(fs).bsize) * statfsSync(fs).bsize).replace('.', '\\.')} in \\d+-byte blocks\\), \\d+(\\.\\d)? k?B free; staged files are kept in `));
    assert.equal(e.bytesNeeded, CHUNK_BYTES);
    return true;
  });
  assert.equal(first.computed, 2);
  for (const f of filler.slice(4)) rmSync(f);
  const retry = { computed: 0 };
  const r = await produceArtifact(store, spec, chunkedWork(retry, 5));
  assert.equal(retry.computed, 3);
  assert.equal(r.manifest.files.length, 5);
});

test('EDQUOT reads as an exceeded quota; other errors pass through unchanged', async () => {
  const quota = Object.assign(new Error('write failed'), { code: 'EDQUOT' });
  const e = (await asStoreFull(quota, { location: tmpdir(), doing: 'writing x of y', bytesNeeded: 2_500_000 })) as StoreFullError;
  assert.match(e.message, new RegExp(`^store ${tmpdir()} is over its disk quota \\(EDQUOT\\): writing x of y needs 2\\.5 MB more\\b`));
  assert.equal(e.cause, quota);
  const other = new Error('EIO');
  assert.equal(await asStoreFull(other, { location: tmpdir(), doing: 'x' }), other);
});
