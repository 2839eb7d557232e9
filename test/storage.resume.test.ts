// Nothing is lost on a failure before publishing: the attempt's files stay staged, its lease is
// released, and the retry — here in the same live process, the hardest case for pid-based
// liveness — resumes instead of recomputing. Carried-over files are checked first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Bytes } from '../storage/atomic.ts';
import { artifactId, codeVersionFor } from '../storage/artifactId.ts';
import { chunkFileName, persistedChunkCount, produceArtifact, type ProduceResult } from '../storage/produce.ts';
import { LocalDirStore, type ArtifactWriter } from '../storage/store.ts';
import { formatVerifyReport, verifyStore } from '../storage/verify.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ufg-resume-'));
const spec = { stage: 'extract', codeVersion: codeVersionFor('extract'), params: { layer: 3 }, inputs: ['source-00000000000000bb'] };
const id = artifactId(spec);
const chunk = (i: number) => new Uint8Array(30_000 + i).fill((i * 7 + 1) & 0xff);
const NUM_CHUNKS = 4;

/** Chunked work like extraction's: resumes from persisted chunks, counts what it computes. */
function chunkedWork(counter: { computed: number }, failAfter?: number) {
  return async (w: ArtifactWriter) => {
    const from = await persistedChunkCount(w, 'chunk', '.bin');
    for (let i = from; i < NUM_CHUNKS; i++) {
      if (failAfter !== undefined && i === failAfter) throw new Error('worker lost its GPU');
      await w.writeFile(chunkFileName('chunk', i, '.bin'), chunk(i));
      counter.computed++;
    }
    await w.writeJson('index.json', { chunks: NUM_CHUNKS });
    return { counts: { chunks: NUM_CHUNKS }, ...(from > 0 ? { resumedFromChunk: from } : {}) };
  };
}

/** The same artifact produced without any interruption, in a store of its own. */
async function undisturbed(): Promise<ProduceResult> {
  return produceArtifact(new LocalDirStore(tmp()), spec, chunkedWork({ computed: 0 }));
}

test('an unexpected error keeps the chunks and releases the lease; a retry in the same process resumes at once', async () => {
  const store = new LocalDirStore(tmp());
  const first = { computed: 0 };
  await assert.rejects(produceArtifact(store, spec, chunkedWork(first, 2)), /worker lost its GPU/);
  assert.equal(first.computed, 2);
  assert.equal(await store.has(id), false);

  // Visible to `ufg verify` as left-over staging (not a problem, and nothing running owns it).
  const report = await verifyStore(store);
  assert.deepEqual(report.problems, []);
  assert.equal(report.staging.length, 1);
  assert.deepEqual(report.staging[0]!.attempts.map((a) => [a.state, a.files]), [['closed', 2]]);
  assert.equal(report.staging[0]!.lease, undefined, 'the lease was released');
  assert.match(formatVerifyReport(report), new RegExp(`staged ${id}: no lease; attempt \\S+: closed, 2 files, 60\\.0 kB — nothing here is in use`));

  const retry = { computed: 0 };
  const t0 = Date.now();
  const r = await produceArtifact(store, spec, chunkedWork(retry));
  assert.ok(Date.now() - t0 < 2000, 'no wait for a lease expiry');
  assert.equal(retry.computed, 2, 'only the chunks the failed attempt had not persisted');
  assert.equal(r.manifest.resumedFromChunk, 2);
  const clean = await undisturbed();
  assert.deepEqual(r.manifest.files, clean.manifest.files);
  assert.deepEqual(r.manifest.counts, clean.manifest.counts);
  assert.equal(existsSync(store.stagingDir(id)), false, 'the closed attempt was removed after the publish');
  assert.deepEqual((await verifyStore(store)).staging, []);
});

test('a failed final rename deletes nothing: the chunks stay staged and the retry publishes them without recomputing', async () => {
  const store = new LocalDirStore(tmp());
  mkdirSync(join(store.artifactDir(id), 'junk'), { recursive: true }); // a broken artifact dir in the way
  const first = { computed: 0 };
  await assert.rejects(produceArtifact(store, spec, chunkedWork(first)), (e: Error) => {
    assert.match(e.message, new RegExp(`${store.artifactDir(id)} exists but holds no complete artifact; run 'ufg verify' and remove it`));
    assert.match(e.message, /files stay staged in /);
    return true;
  });
  assert.equal(first.computed, NUM_CHUNKS);
  const [folder] = readdirSync(store.stagingDir(id), { withFileTypes: true }).filter((e) => e.isDirectory());
  assert.deepEqual(readdirSync(join(store.stagingDir(id), folder!.name)).sort(), ['chunk-000000.bin', 'chunk-000001.bin', 'chunk-000002.bin', 'chunk-000003.bin', 'index.json']);
  assert.deepEqual((await verifyStore(store)).problems.map((p) => [p.id, p.kind]), [[id, 'bad-manifest']]);

  rmSync(store.artifactDir(id), { recursive: true });
  const retry = { computed: 0 };
  const r = await produceArtifact(store, spec, chunkedWork(retry));
  assert.equal(retry.computed, 0, 'nothing recomputed');
  assert.deepEqual(r.manifest.files, (await undisturbed()).manifest.files);
  assert.equal(existsSync(store.stagingDir(id)), false);
});

test('a carried-over chunk that changed since it was recorded is left behind and recomputed', async () => {
  const store = new LocalDirStore(tmp());
  await assert.rejects(produceArtifact(store, spec, chunkedWork({ computed: 0 }, 3)));
  const [folder] = readdirSync(store.stagingDir(id), { withFileTypes: true }).filter((e) => e.isDirectory());
  const damaged = join(store.stagingDir(id), folder!.name, 'chunk-000001.bin');
  writeFileSync(damaged, new Uint8Array(chunk(1).length).fill(0)); // same size, same inode, other bytes
  utimesSync(damaged, new Date(), new Date(Date.now() + 3000));

  const retry = { computed: 0 };
  const r = await produceArtifact(store, spec, chunkedWork(retry));
  assert.equal(retry.computed, 3, 'chunk 0 carried; chunk 1 rejected, so 1, 2 and 3 computed');
  assert.equal(r.manifest.resumedFromChunk, 1);
  assert.deepEqual(r.manifest.files.map((f) => f.sha256).slice(0, NUM_CHUNKS), [0, 1, 2, 3].map((i) => sha256Bytes(chunk(i))));
});

test('waiting for a lease held by a live attempt is cancellable, and verify shows the live lease as in use', async () => {
  const store = new LocalDirStore(tmp(), { pollMs: 20 });
  const holder = (await store.begin(id, { producer: { workflowId: 'wf-held', activity: 'extract', attempt: 1 } })).writer!;
  await holder.writeFile('chunk-000000.bin', chunk(0));
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 150);
  await assert.rejects(store.begin(id, { signal: ac.signal }), { name: 'AbortError' });
  const waited = Date.now() - t0;
  assert.ok(waited >= 140 && waited < 1000, `waited ${waited} ms`);

  const report = await verifyStore(store);
  assert.equal(report.staging[0]!.lease?.status, 'held');
  assert.deepEqual(report.staging[0]!.attempts.map((a) => a.state), ['possibly-live']);
  const line = formatVerifyReport(report).split('\n')[0]!;
  assert.match(line, new RegExp(`staged ${id}: lease held by pid ${process.pid} on \\S+ \\(wf-held, extract, attempt 1\\), refreshed \\d+s ago; attempt \\S+: owner may be running, 1 files`));
  assert.doesNotMatch(line, /nothing here is in use/);
  await holder.abandon();
  assert.deepEqual((await verifyStore(store)).staging, []);
});
