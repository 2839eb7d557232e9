import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeVersionFor } from '../storage/artifactId.ts';
import { produceArtifact } from '../storage/produce.ts';
import { registerSource } from '../storage/sources.ts';
import { LocalDirStore } from '../storage/store.ts';
import { formatVerifyReport, verifyStore } from '../storage/verify.ts';

async function smallStore() {
  const dir = mkdtempSync(join(tmpdir(), 'ufg-verify-'));
  const store = new LocalDirStore(join(dir, 'store'));
  const corpusPath = join(dir, 'corpus.txt');
  writeFileSync(corpusPath, 'hello world\n');
  const corpus = await registerSource(store, corpusPath, { kind: 'corpus' });
  const ext = await produceArtifact(
    store,
    { stage: 'extract', codeVersion: codeVersionFor('extract'), params: { layer: 1 }, inputs: [corpus.id] },
    async (w) => {
      await w.writeFile('acts/chunk-000000.bin', new Uint8Array(4096).fill(7));
      await w.writeFile('meta.json', '{"rows":1}');
    },
  );
  const pair = await produceArtifact(
    store,
    { stage: 'pair', codeVersion: codeVersionFor('pair'), params: {}, inputs: [ext.manifest.id] },
    async (w) => void (await w.writeFile('pairs.bin', new Uint8Array([1, 2]))),
  );
  return { dir, store, corpusPath, corpus, ext: ext.manifest, pair: pair.manifest };
}

const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/ufg.mjs', 'verify', ...args], { encoding: 'utf8' });

test('a clean store verifies with no problems, counting every file and byte', async () => {
  const s = await smallStore();
  const r = await verifyStore(s.store);
  assert.deepEqual(r.problems, []);
  assert.equal(r.checkedArtifacts, 3);
  assert.equal(r.checkedFiles, 4); // corpus source file + 2 extract files + 1 pair file
  assert.equal(r.checkedBytes, 12 + 4096 + 10 + 2);
  assert.match(formatVerifyReport(r), /^ok: 3 artifacts, 4 files/);
  const c = cli('--store', s.store.root);
  assert.equal(c.status, 0, c.stderr);
});

test('a single flipped byte is caught and names the artifact and the file', async () => {
  const s = await smallStore();
  const path = await s.store.localPath(s.ext.id, 'acts/chunk-000000.bin');
  const bytes = readFileSync(path);
  bytes[1234] ^= 0x01;
  writeFileSync(path, bytes);
  const r = await verifyStore(s.store);
  assert.deepEqual(
    r.problems.map((p) => [p.id, p.kind, p.file]),
    [[s.ext.id, 'changed-file', 'acts/chunk-000000.bin']],
  );
  const c = cli('--store', s.store.root);
  assert.equal(c.status, 1);
  assert.ok(c.stdout.includes(`${s.ext.id}: changed-file: acts/chunk-000000.bin changed`), c.stdout);
  assert.match(c.stdout, /FAILED: 1 of 3 artifacts/);
  // Limiting verify to other artifacts does not report it.
  const only = cli('--store', s.store.root, s.pair.id);
  assert.equal(only.status, 0, only.stdout);
});

test('missing files, missing inputs, changed and missing source files are reported', async () => {
  const s = await smallStore();
  rmSync(await s.store.localPath(s.ext.id, 'meta.json'));
  writeFileSync(s.corpusPath, 'hello World\n');
  let r = await verifyStore(s.store);
  assert.deepEqual(
    r.problems.map((p) => [p.id, p.kind, p.file]).sort(),
    [
      [s.corpus.id, 'changed-source', s.corpusPath],
      [s.ext.id, 'missing-file', 'meta.json'],
      [s.pair.id, 'missing-input', s.ext.id], // its input is no longer complete
    ].sort(),
  );
  rmSync(s.corpusPath);
  rmSync(s.store.artifactDir(s.ext.id), { recursive: true });
  r = await verifyStore(s.store);
  assert.deepEqual(
    r.problems.map((p) => [p.id, p.kind]).sort(),
    [
      [s.corpus.id, 'missing-source'],
      [s.pair.id, 'missing-input'],
    ].sort(),
  );
  const c = cli('--store', s.store.root, '--json');
  assert.equal(c.status, 1);
  assert.equal(JSON.parse(c.stdout).problems.length, 2);
});

test('a torn manifest is reported as a bad manifest; bad ids are a user error', async () => {
  const s = await smallStore();
  writeFileSync(join(s.store.artifactDir(s.pair.id), 'manifest.json'), '{"format":1,');
  const r = await verifyStore(s.store);
  assert.deepEqual(r.problems.map((p) => [p.id, p.kind]), [[s.pair.id, 'bad-manifest']]);
  const c = cli('--store', s.store.root, '../etc');
  assert.equal(c.status, 2);
  assert.match(c.stderr, /is not an artifact id/);
});
