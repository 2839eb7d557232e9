import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Bytes } from '../storage/atomic.ts';
import { artifactId, codeVersionFor } from '../storage/artifactId.ts';
import { MANIFEST_NAME } from '../storage/manifest.ts';
import { chunkFileName, persistedChunkCount, produceArtifact } from '../storage/produce.ts';
import { registerSource } from '../storage/sources.ts';
import { modules, startChild } from './storeChild.ts';
import { defaultStoreRoot, LocalDirStore, type ArtifactWriter } from '../storage/store.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ufg-store-'));
const spec = (params: unknown = { layer: 2, batchSize: 4 }) => ({
  stage: 'extract',
  codeVersion: codeVersionFor('extract'),
  params,
  inputs: ['source-00000000000000aa'],
});
const chunk = (i: number) => new Uint8Array(1000 + i).fill(i + 1);

/** Runs TypeScript in a fresh Node process (a real second worker / a real crash). */
async function runChild(code: string) {
  const child = startChild(code);
  return { pid: child.pid, ...(await child.done) };
}
const storeUrl = modules.store;

test('commit publishes files with size and sha256, manifest written last, staging removed', async () => {
  const store = new LocalDirStore(tmp());
  const s = spec();
  const id = artifactId(s);
  const w = (await store.begin(id, { producer: { workflowId: 'wf-1', runId: 'run-1', activity: 'extractLayer', attempt: 1 } })).writer!;
  await w.writeFile('acts/chunk-000000.bin', chunk(0));
  await w.writeJson('meta.json', { rows: 3 });
  await w.writeWithPath('big.bin', async (p) => writeFileSync(p, chunk(7)));
  assert.equal(await store.has(id), false, 'not visible before commit');
  assert.deepEqual(await store.list(), []);
  const m = await w.commit({ ...s, counts: { tokens: 12 }, summary: { layer: 2 } });
  assert.equal(await store.has(id), true);
  assert.deepEqual(await store.list(), [id]);
  assert.deepEqual(m, await store.manifest(id));
  assert.equal(m.id, id);
  assert.equal(m.stage, 'extract');
  assert.equal(m.codeVersion, s.codeVersion);
  assert.deepEqual(m.params, { batchSize: 4, layer: 2 });
  assert.deepEqual(m.inputs, s.inputs);
  assert.deepEqual(m.counts, { tokens: 12 });
  assert.deepEqual(m.summary, { layer: 2 });
  assert.equal(m.producer.workflowId, 'wf-1');
  assert.equal(m.producer.attempt, 1);
  assert.equal(m.producer.token, w.token, 'the committing attempt is named as producer');
  assert.equal(m.producer.pid, process.pid);
  assert.equal(typeof m.producer.host, 'string');
  assert.ok(m.startedAt <= m.finishedAt);
  const meta = JSON.stringify({ rows: 3 }, null, 2) + '\n';
  assert.deepEqual(m.files, [
    { name: 'acts/chunk-000000.bin', size: 1000, sha256: sha256Bytes(chunk(0)) },
    { name: 'big.bin', size: 1007, sha256: sha256Bytes(chunk(7)) },
    { name: 'meta.json', size: meta.length, sha256: sha256Bytes(meta) },
  ]);
  assert.deepEqual(await store.readFile(id, 'big.bin'), new Uint8Array(chunk(7)));
  assert.equal(readFileSync(await store.localPath(id, 'meta.json'), 'utf8'), meta);
  assert.deepEqual(readdirSync(join(store.root, '.staging')), [], 'no lease, attempt folder or bookkeeping left');
  assert.deepEqual(readdirSync(store.artifactDir(id)).sort(), ['acts', 'big.bin', 'manifest.json', 'meta.json']);
});

test('commit refuses a spec whose id differs from the one begun', async () => {
  const store = new LocalDirStore(tmp());
  const w = (await store.begin(artifactId(spec()))).writer!;
  await assert.rejects(w.commit(spec({ layer: 3 })), /changed/);
});

test('a crash between chunk writes and commit leaves no artifact; its files survive and the next attempt resumes from them', async () => {
  const root = tmp();
  const id = artifactId(spec());
  const crash = await runChild(`
    const { LocalDirStore } = await import(${JSON.stringify(storeUrl)});
    const store = new LocalDirStore(${JSON.stringify(root)});
    const { writer: w } = await store.begin(${JSON.stringify(id)}, { producer: { workflowId: 'wf', attempt: 1 } });
    for (let i = 0; i < 2; i++) await w.writeFile('chunk-00000' + i + '.bin', new Uint8Array(1000 + i).fill(i + 1));
    process.kill(process.pid, 'SIGKILL');
  `);
  assert.equal(crash.signal, 'SIGKILL', crash.stderr);
  const store = new LocalDirStore(root);
  assert.equal(await store.has(id), false);
  assert.equal(await store.manifest(id), undefined);
  const [crashed] = readdirSync(store.stagingDir(id), { withFileTypes: true }).filter((e) => e.isDirectory());
  assert.ok(crashed, 'the killed attempt left its folder');
  // A write torn by the crash leaves only a hidden temp file, never a short chunk under its name.
  writeFileSync(join(store.stagingDir(id), crashed.name, '.chunk-000002.bin.tmp-1-abc'), chunk(2).subarray(0, 10));
  assert.deepEqual(await store.list(), []);

  // The crashed holder's pid is gone, so its lease is taken over at once (the default expiry is minutes).
  const t0 = Date.now();
  const w = (await store.begin(id, { producer: { workflowId: 'wf', attempt: 2 } })).writer!;
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(await w.listFiles(), ['chunk-000000.bin', 'chunk-000001.bin']);
  const from = await persistedChunkCount(w, 'chunk', '.bin');
  assert.equal(from, 2);
  assert.deepEqual(await w.readFile('chunk-000001.bin'), new Uint8Array(chunk(1)));
  for (let i = from; i < 3; i++) await w.writeFile(chunkFileName('chunk', i, '.bin'), chunk(i));
  const m = await w.commit({ ...spec(), resumedFromChunk: from });
  assert.equal(m.resumedFromChunk, 2);
  assert.deepEqual(readdirSync(store.artifactDir(id)).sort(), ['chunk-000000.bin', 'chunk-000001.bin', 'chunk-000002.bin', 'manifest.json']);
  assert.equal(m.files.length, 3);
  assert.deepEqual(m.files.map((f) => f.sha256), [0, 1, 2].map((i) => sha256Bytes(chunk(i))));
  assert.equal(m.attempts?.length, 2);
  assert.deepEqual(m.attempts!.map((a) => [a.producer.attempt, a.carriedFiles]), [[1, 0], [2, 2]]);
  assert.equal(m.attempts![0]!.producer.pid, crash.pid);
  assert.equal(m.producer.attempt, 2);
  assert.ok(m.startedAt === m.attempts![0]!.startedAt);
  assert.equal(existsSync(store.stagingDir(id)), false, "the dead attempt's folder is cleaned up once published");
});

test('an artifact directory without a complete manifest does not exist', async () => {
  const store = new LocalDirStore(tmp());
  const s = spec();
  const id = artifactId(s);
  const w = (await store.begin(id)).writer!;
  await w.writeFile('a.bin', chunk(0));
  await w.commit(s);
  const manifestPath = join(store.artifactDir(id), MANIFEST_NAME);
  const text = readFileSync(manifestPath, 'utf8');
  writeFileSync(manifestPath, text.slice(0, text.length / 2)); // torn manifest
  assert.equal(await store.has(id), false);
  assert.match((await store.manifestProblem(id))!, /not valid JSON/);
  writeFileSync(manifestPath, text);
  assert.equal(await store.has(id), true);
  writeFileSync(join(store.artifactDir(id), 'a.bin'), chunk(1)); // truncated/grown file
  assert.equal(await store.has(id), false);
  rmSync(manifestPath);
  assert.equal(await store.has(id), false);
  assert.equal(await store.manifestProblem(id), 'manifest.json is missing');
});

test('two producers of one id in one process: one computes, the other waits for its lease and reuses the artifact', async () => {
  const store = new LocalDirStore(tmp(), { pollMs: 20 });
  let runs = 0;
  const work = async (w: ArtifactWriter) => {
    runs++;
    await w.writeFile('x.bin', chunk(0));
    await new Promise((r) => setTimeout(r, 100)); // the other producer is waiting meanwhile
    await w.writeFile('y.bin', chunk(1));
  };
  const [a, b] = await Promise.all([produceArtifact(store, spec(), work), produceArtifact(store, spec(), work)]);
  assert.equal(runs, 1);
  assert.deepEqual([a.reused, b.reused].sort(), [false, true]);
  assert.deepEqual(a.manifest, b.manifest);
  assert.equal(await store.has(a.manifest.id), true);
  assert.deepEqual(readdirSync(join(store.root, '.staging')), []);
});

test('abandon drops the attempt and its lease; the next attempt starts empty at once', async () => {
  const store = new LocalDirStore(tmp());
  const id = artifactId(spec());
  const w = (await store.begin(id)).writer!;
  await w.writeFile('x.bin', chunk(0));
  await w.abandon();
  assert.equal(existsSync(store.stagingDir(id)), false);
  const t0 = Date.now();
  const again = (await store.begin(id)).writer!;
  assert.ok(Date.now() - t0 < 1000, 'no wait for the expiry of a released lease');
  assert.deepEqual(await again.listFiles(), []);
  await again.abandon();
});

test('produceArtifact reuses a complete artifact without running the work again', async () => {
  const store = new LocalDirStore(tmp());
  let runs = 0;
  const work = async (w: { writeFile(n: string, d: Uint8Array): Promise<void> }) => {
    runs++;
    await w.writeFile('out.bin', chunk(3));
    return { counts: { rows: 1 } };
  };
  const first = await produceArtifact(store, spec(), work);
  const second = await produceArtifact(store, spec(), work);
  assert.equal(runs, 1);
  assert.equal(first.reused, false);
  assert.equal(second.reused, true);
  assert.deepEqual(second.manifest, first.manifest);
  const other = await produceArtifact(store, spec({ layer: 9 }), work);
  assert.equal(runs, 2);
  assert.notEqual(other.manifest.id, first.manifest.id);
});

test('file names that could escape the artifact or hide in it are refused', async () => {
  const store = new LocalDirStore(tmp());
  const w = (await store.begin(artifactId(spec()))).writer!;
  for (const bad of ['../x', '/etc/passwd', '.hidden', 'a/../b', 'manifest.json', 'a//b', '']) {
    await assert.rejects(w.writeFile(bad, 'x'), /bad artifact file name/, bad);
  }
  assert.throws(() => store.artifactDir('../../etc'), /bad artifact id/);
});

test('source files: same content gives the same id, a change gives a new one, hashes are cached', async () => {
  const dir = tmp();
  const store = new LocalDirStore(join(dir, 'store'));
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, 'the cat sat\n');
  const a = await registerSource(store, corpus, { kind: 'corpus' });
  const b = await registerSource(store, corpus, { kind: 'corpus' });
  assert.equal(a.id, b.id);
  assert.match(a.id, /^source-/);
  assert.deepEqual(a.source?.files, [{ name: '', size: 12, sha256: sha256Bytes('the cat sat\n') }]);
  assert.equal(a.source?.path, corpus);
  assert.equal(a.source?.kind, 'corpus');
  assert.deepEqual(a.files, []);
  assert.equal(await store.has(a.id), true);

  // The cache is keyed by (path, size, mtime): poison it and an unchanged file reads the cached value…
  const cacheDir = join(store.cacheDir, 'hashes');
  const [entry] = readdirSync(cacheDir);
  const cached = JSON.parse(readFileSync(join(cacheDir, entry!), 'utf8'));
  writeFileSync(join(cacheDir, entry!), JSON.stringify({ ...cached, sha256: 'f'.repeat(64) }));
  const poisoned = await registerSource(store, corpus);
  assert.equal(poisoned.source?.files[0]?.sha256, 'f'.repeat(64));
  // …while a new mtime (same size, different bytes) forces a real re-hash and a new id.
  writeFileSync(corpus, 'the dog sat\n');
  utimesSync(corpus, new Date(), new Date(Date.now() + 5000));
  const c = await registerSource(store, corpus);
  assert.equal(c.source?.files[0]?.sha256, sha256Bytes('the dog sat\n'));
  assert.notEqual(c.id, a.id);

  // Directory sources (SAE layouts) hash every file, names relative to the directory.
  const sae = join(dir, 'sae');
  mkdirSync(join(sae, 'layers.3'), { recursive: true });
  writeFileSync(join(sae, 'layers.3', 'cfg.json'), '{"k":4}');
  writeFileSync(join(sae, 'layers.3', 'sae.safetensors'), chunk(5));
  const s = await registerSource(store, sae, { kind: 'sae' });
  assert.deepEqual(s.source?.files.map((f) => f.name), ['layers.3/cfg.json', 'layers.3/sae.safetensors']);
  assert.equal(s.source?.files[1]?.sha256, sha256Bytes(chunk(5)));
  await assert.rejects(registerSource(store, join(dir, 'nope')), /no such file/);
});

test('default store root: $UFG_HOME/store, else .ufg/store in the working directory', () => {
  assert.equal(defaultStoreRoot({ UFG_HOME: '/data/ufg' }, '/w'), '/data/ufg/store');
  assert.equal(defaultStoreRoot({}, '/w'), '/w/.ufg/store');
});
