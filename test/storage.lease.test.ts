// One writer per artifact, with real separate processes: two producers at once, a producer
// stalled past its lease's expiry (SIGSTOP: alive but silent, as a frozen VM or another host
// would look), a producer killed with kill -9, and bad input in one of two writers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Bytes } from '../storage/atomic.ts';
import { artifactId, codeVersionFor } from '../storage/artifactId.ts';
import type { Manifest } from '../storage/manifest.ts';
import { chunkFileName, persistedChunkCount, produceArtifact, type ProduceResult } from '../storage/produce.ts';
import { LocalDirStore } from '../storage/store.ts';
import { modules, resultOf, startChild } from './storeChild.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ufg-lease-'));
const spec = { stage: 'pair', codeVersion: codeVersionFor('pair'), params: { layer: 1 }, inputs: ['extract-00000000000000aa'] };
const id = artifactId(spec);
const chunk = (i: number) => new Uint8Array(20_000 + i).fill(i + 1);

/** Attempt folders (not bookkeeping files) in the artifact's staging folder. */
function attemptFolders(store: LocalDirStore): string[] {
  if (!existsSync(store.stagingDir(id))) return [];
  return readdirSync(store.stagingDir(id), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

function snapshot(dir: string): Record<string, { ino: number; sha256: string }> {
  const out: Record<string, { ino: number; sha256: string }> = {};
  for (const name of readdirSync(dir).sort()) out[name] = { ino: statSync(join(dir, name)).ino, sha256: sha256Bytes(readFileSync(join(dir, name))) };
  return out;
}

test('two processes produce one artifact at once: one attempt publishes both of its files, the other waits and reuses them', async () => {
  const root = tmp();
  const go = join(root, 'go');
  const child = (n: number) =>
    startChild(`
      const { existsSync } = await import('node:fs');
      const { LocalDirStore } = await import(${JSON.stringify(modules.store)});
      const { produceArtifact } = await import(${JSON.stringify(modules.produce)});
      const store = new LocalDirStore(${JSON.stringify(root)}, { pollMs: 20 });
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      console.log('ready');
      while (!existsSync(${JSON.stringify(go)})) await sleep(2);
      let worked = false;
      const r = await produceArtifact(store, ${JSON.stringify(spec)}, async (w) => {
        worked = true;
        // Each attempt writes different content (its pid), with a gap in which the other runs.
        await w.writeJson('pairs.json', { pid: process.pid });
        await sleep(400);
        await w.writeJson('counts.json', { pid: process.pid });
        return { counts: { n: ${n} } };
      }, { producer: { workflowId: 'wf', activity: 'pair', attempt: ${n} } });
      console.log('result ' + JSON.stringify({ worked, reused: r.reused, manifest: r.manifest }));
    `);
  const children = [child(1), child(2)];
  await Promise.all(children.map((c) => c.line(/^ready$/)));
  writeFileSync(go, '');
  const results = await Promise.all(children.map((c) => c.done));
  for (const r of results) assert.equal(r.status, 0, r.stderr);
  const out = results.map((r) => resultOf<{ worked: boolean; reused: boolean; manifest: Manifest }>(r));

  assert.deepEqual(out.map((o) => o.worked).sort(), [false, true], 'exactly one process did the work');
  const winner = out.findIndex((o) => o.worked);
  const loser = 1 - winner;
  assert.equal(out[winner]!.reused, false);
  assert.equal(out[loser]!.reused, true);
  assert.deepEqual(out[loser]!.manifest, out[winner]!.manifest);

  const store = new LocalDirStore(root);
  const m = (await store.manifest(id))!;
  assert.deepEqual(m, out[winner]!.manifest);
  const winnerPid = children[winner]!.pid;
  const read = async (name: string) => JSON.parse(new TextDecoder().decode(await store.readFile(id, name))) as { pid: number };
  assert.equal((await read('pairs.json')).pid, winnerPid);
  assert.equal((await read('counts.json')).pid, winnerPid, 'both files come from the same attempt');
  assert.equal(m.producer.pid, winnerPid);
  assert.equal(m.producer.attempt, winner + 1, 'the manifest names the committing attempt');
  assert.deepEqual(m.counts, { n: winner + 1 });
  assert.equal(m.attempts, undefined, 'one attempt wrote the artifact');
  assert.equal(existsSync(store.stagingDir(id)), false, 'no staging, lease or bookkeeping left');
});

/** A child that becomes the producer, writes chunks 0 and 1, says so, and finishes once `go` exists. */
function stallableProducer(root: string, go: string) {
  return startChild(`
    const { existsSync } = await import('node:fs');
    const { LocalDirStore } = await import(${JSON.stringify(modules.store)});
    const { produceArtifact } = await import(${JSON.stringify(modules.produce)});
    const store = new LocalDirStore(${JSON.stringify(root)}, { leaseExpiryMs: 1000, pollMs: 50 });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const chunk = (i) => new Uint8Array(20000 + i).fill(i + 1);
    const r = await produceArtifact(store, ${JSON.stringify(spec)}, async (w) => {
      for (let i = 0; i < 2; i++) await w.writeFile('chunk-00000' + i, chunk(i));
      console.log('wrote ' + store.writerDir(w));
      while (!existsSync(${JSON.stringify(go)})) await sleep(10);
      for (let i = 2; i < 4; i++) await w.writeFile('chunk-00000' + i, chunk(i));
      await w.writeJson('meta.json', { pid: process.pid });
    }, { producer: { attempt: 1 } });
    console.log('result ' + JSON.stringify(r));
  `);
}

test('a producer stalled past its lease expiry is taken over; the new holder resumes its chunks and publishes, the stalled one then reuses that', async () => {
  const root = tmp();
  const go = join(root, 'go');
  const stalled = stallableProducer(root, go);
  const stalledDir = (await stalled.line(/^wrote /)).slice('wrote '.length);
  stalled.proc.kill('SIGSTOP');
  try {
    const store = new LocalDirStore(root, { leaseExpiryMs: 1000, pollMs: 50 });
    let computed = 0;
    const t0 = Date.now();
    const r = await produceArtifact(
      store,
      spec,
      async (w) => {
        const from = await persistedChunkCount(w, 'chunk');
        for (let i = from; i < 4; i++, computed++) await w.writeFile(chunkFileName('chunk', i), chunk(i));
        await w.writeJson('meta.json', { pid: process.pid });
        return { resumedFromChunk: from };
      },
      { producer: { attempt: 2 } },
    );
    const waited = Date.now() - t0;
    assert.ok(waited >= 700, `took over only after the lease expired (waited ${waited} ms)`);
    assert.equal(r.reused, false);
    assert.equal(computed, 2, 'chunks 0 and 1 were resumed from the stalled attempt');
    assert.equal(r.manifest.resumedFromChunk, 2);
    assert.equal(r.manifest.producer.attempt, 2);
    assert.equal(r.manifest.producer.pid, process.pid);
    assert.deepEqual(r.manifest.attempts!.map((a) => [a.producer.pid, a.carriedFiles]), [[stalled.pid, 0], [process.pid, 2]]);
    assert.deepEqual(
      r.manifest.files.filter((f) => f.name.startsWith('chunk')).map((f) => f.sha256),
      [0, 1, 2, 3].map((i) => sha256Bytes(chunk(i))),
    );
    assert.ok(existsSync(stalledDir), "the stalled attempt's folder is kept: its process may be alive");

    stalled.proc.kill('SIGCONT');
    writeFileSync(go, '');
    const done = await stalled.done;
    assert.equal(done.status, 0, done.stderr);
    const late = resultOf<ProduceResult>(done);
    assert.equal(late.reused, true, 'the stalled attempt found the artifact published and reused it');
    assert.deepEqual(late.manifest, r.manifest);
    assert.equal(JSON.parse(new TextDecoder().decode(await store.readFile(id, 'meta.json'))).pid, process.pid, "the stalled attempt's files were not published");
    assert.equal(existsSync(stalledDir), false, 'the stalled attempt dropped its own staging');
    assert.equal(existsSync(store.stagingDir(id)), false);
  } finally {
    stalled.proc.kill('SIGKILL');
  }
});

test("bad input in the writer that took over drops only its own attempt; the other writer's files are untouched and it publishes them", async () => {
  const root = tmp();
  const go = join(root, 'go');
  const first = stallableProducer(root, go);
  const firstDir = (await first.line(/^wrote /)).slice('wrote '.length);
  first.proc.kill('SIGSTOP');
  try {
    const before = snapshot(firstDir);
    assert.deepEqual(Object.keys(before), ['chunk-000000', 'chunk-000001']);
    // The second writer runs in its own process too and fails with bad input after writing.
    const second = startChild(`
      const { LocalDirStore } = await import(${JSON.stringify(modules.store)});
      const { produceArtifact } = await import(${JSON.stringify(modules.produce)});
      const { UserInputError } = await import(${JSON.stringify(modules.errors)});
      const store = new LocalDirStore(${JSON.stringify(root)}, { leaseExpiryMs: 1000, pollMs: 50 });
      try {
        await produceArtifact(store, ${JSON.stringify(spec)}, async (w) => {
          console.log('carried ' + JSON.stringify(await w.listFiles()) + ' into ' + store.writerDir(w));
          await w.writeFile('chunk-000002', new Uint8Array(5).fill(9));
          throw new UserInputError('layer 9 out of range', 'sweep.json');
        });
      } catch (e) {
        console.log('result ' + JSON.stringify({ error: e.message }));
      }
    `);
    const carried = await second.line(/^carried /);
    const secondDir = carried.slice(carried.indexOf(' into ') + ' into '.length);
    assert.ok(carried.includes('["chunk-000000","chunk-000001"]'), carried);
    const r = await second.done;
    assert.equal(r.status, 0, r.stderr);
    assert.match(resultOf<{ error: string }>(r).error, /sweep\.json: layer 9 out of range/);

    const store = new LocalDirStore(root);
    assert.equal(existsSync(secondDir), false, 'the failing attempt dropped its own folder');
    assert.deepEqual(snapshot(firstDir), before, "the other writer's files: same names, same inodes, same bytes");
    assert.deepEqual(attemptFolders(store), [firstDir.split('/').at(-1)]);
    assert.equal(await store.has(id), false);

    first.proc.kill('SIGCONT');
    writeFileSync(go, '');
    const done = await first.done;
    assert.equal(done.status, 0, done.stderr);
    const m = resultOf<ProduceResult>(done).manifest;
    assert.equal(m.producer.pid, first.pid);
    assert.equal(JSON.parse(new TextDecoder().decode(await store.readFile(id, 'meta.json'))).pid, first.pid);
    assert.deepEqual(m.files.filter((f) => f.name.startsWith('chunk')).map((f) => f.sha256), [0, 1, 2, 3].map((i) => sha256Bytes(chunk(i))));
    assert.equal(existsSync(store.stagingDir(id)), false);
  } finally {
    first.proc.kill('SIGKILL');
  }
});

test('kill -9 of the lease holder mid-write: another process takes over at once (dead pid, no expiry wait) and resumes the persisted chunks', async () => {
  const root = tmp();
  // A long expiry: only the dead pid can explain a prompt takeover.
  const victim = startChild(`
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { LocalDirStore } = await import(${JSON.stringify(modules.store)});
    const { produceArtifact } = await import(${JSON.stringify(modules.produce)});
    const store = new LocalDirStore(${JSON.stringify(root)}, { leaseExpiryMs: 600000 });
    const chunk = (i) => new Uint8Array(20000 + i).fill(i + 1);
    await produceArtifact(store, ${JSON.stringify(spec)}, async (w) => {
      for (let i = 0; i < 2; i++) await w.writeFile('chunk-00000' + i, chunk(i));
      // Like extraction: a chunk written straight into the staging folder (no recorded digest).
      writeFileSync(join(store.writerDir(w), 'chunk-000002'), chunk(2));
      console.log('persisted');
      await new Promise(() => {}); // mid-write when killed
    });
  `);
  await victim.line(/^persisted$/);
  victim.proc.kill('SIGKILL');
  assert.equal((await victim.done).signal, 'SIGKILL');

  const store = new LocalDirStore(root, { leaseExpiryMs: 600_000 });
  let computed = 0;
  const t0 = Date.now();
  const r = await produceArtifact(store, spec, async (w) => {
    const from = await persistedChunkCount(w, 'chunk');
    for (let i = from; i < 5; i++, computed++) await w.writeFile(chunkFileName('chunk', i), chunk(i));
    return { resumedFromChunk: from };
  });
  assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  assert.equal(computed, 2, 'only chunks 3 and 4 were computed');
  assert.equal(r.manifest.resumedFromChunk, 3);
  assert.deepEqual(r.manifest.attempts!.map((a) => [a.producer.pid, a.carriedFiles]), [[victim.pid, 0], [process.pid, 3]]);
  assert.deepEqual(r.manifest.files.map((f) => f.sha256), [0, 1, 2, 3, 4].map((i) => sha256Bytes(chunk(i))));
  assert.equal(existsSync(store.stagingDir(id)), false, "the dead holder's folder is cleaned up after the publish");
});
