// A stage reads a source from the path the current config names, checked against the content the
// sweep registered: the registration's own path is not used (it may be another sweep's, moved or
// gone), and a file changed since registration is one clear, non-retryable error naming it.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sourceAt } from '../activities/storeAccess.ts';
import { isUserInputError } from '../pipelines/errors.ts';
import { registerSource, sourceChanges } from '../storage/sources.ts';
import { LocalDirStore } from '../storage/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'ufg-source-use-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const store = new LocalDirStore(join(dir, 'store'));

function saeFolder(name: string, weights: Uint8Array): string {
  const folder = join(dir, name, 'layers.1');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'cfg.json'), '{"k":4}');
  writeFileSync(join(folder, 'sae.safetensors'), weights);
  return folder;
}

test('the config path is read, not the path the content was first registered from', async () => {
  const first = saeFolder('release-a', new Uint8Array(256).fill(7));
  const registered = await registerSource(store, first, { kind: 'sae' });
  // The same content elsewhere (another checkout, a copied release); the first copy is then moved away.
  const second = join(dir, 'copy', 'layers.1');
  cpSync(first, second, { recursive: true });
  assert.equal((await registerSource(store, second, { kind: 'sae' })).id, registered.id, 'same content, same id');
  renameSync(join(dir, 'release-a'), join(dir, 'release-a-moved'));
  assert.equal(registered.source?.path, first, 'the manifest still records the first path');
  assert.equal(await sourceAt(store, registered.id, second), second);
  await assert.rejects(sourceAt(store, registered.id, first), (e: unknown) => {
    assert.ok(isUserInputError(e));
    assert.match((e as Error).message, new RegExp(`^${first}: no such file or directory`));
    return true;
  });
});

test('a source changed since registration: one error naming the path, the file, the hashes and what to do', async () => {
  const folder = saeFolder('release-b', new Uint8Array(512).fill(1));
  const { id } = await registerSource(store, folder, { kind: 'sae' });
  const flipped = new Uint8Array(512).fill(1);
  flipped[100] = 2;
  writeFileSync(join(folder, 'sae.safetensors'), flipped); // same size, new bytes (and a new mtime)
  const err = await sourceAt(store, id, folder).then(
    () => assert.fail('a changed source was accepted'),
    (e: unknown) => e as Error,
  );
  assert.ok(isUserInputError(err));
  assert.match(err.message, new RegExp(`^${folder}: changed since this sweep registered it as ${id} \\(sae\\.safetensors: sha256 [0-9a-f]{12}… → [0-9a-f]{12}…, size 512 → 512\\); restore it, or run \`ufg sweep resume`));
  assert.doesNotMatch(err.message, /\n/, 'one line');
  // Restoring the bytes makes it usable again (the cache is keyed by mtime, so this re-hashes).
  writeFileSync(join(folder, 'sae.safetensors'), new Uint8Array(512).fill(1));
  assert.equal(await sourceAt(store, id, folder), folder);
});

test('sourceChanges names missing, new and changed files', () => {
  const f = (name: string, sha: string, size = 10) => ({ name, size, sha256: sha.repeat(64) });
  assert.deepEqual(sourceChanges([f('a', '1'), f('b', '2')], [f('b', '3', 11), f('c', '4')]), [
    'a: missing',
    'b: sha256 222222222222… → 333333333333…, size 10 → 11',
    'c: new file',
  ]);
  assert.deepEqual(sourceChanges([f('', '1')], [f('', '2')]), ['content: sha256 111111111111… → 222222222222…, size 10 → 10']);
  assert.deepEqual(sourceChanges([f('a', '1')], [f('a', '1')]), []);
});

