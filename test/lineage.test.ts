import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Bytes } from '../storage/atomic.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import { flattenLineage, formatLineage, keyParams, lineageSources, lineageTree, type LineageNode } from '../storage/lineage.ts';
import { produceArtifact } from '../storage/produce.ts';
import { writeParquetTable } from '../storage/parquet.ts';
import { resolveArtifactRef } from '../storage/resultsRef.ts';
import { registerSource } from '../storage/sources.ts';
import { LocalDirStore } from '../storage/store.ts';

/** corpus+tokenizer → tokenize → extract(+model) → sae(+sae files): three stages down to four sources. */
async function buildChain() {
  const dir = mkdtempSync(join(tmpdir(), 'ufg-lineage-'));
  const store = new LocalDirStore(join(dir, 'store'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const corpus = await registerSource(store, write('corpus.jsonl', '{"text":"the cat"}\n'), { kind: 'corpus' });
  const tokenizer = await registerSource(store, write('tokenizer.json', '{"model":{}}'), { kind: 'tokenizer' });
  const model = await registerSource(store, write('model.onnx', 'onnx-bytes'), { kind: 'model' });
  mkdirSync(join(dir, 'sae', 'layers.2'), { recursive: true });
  writeFileSync(join(dir, 'sae', 'layers.2', 'cfg.json'), '{"k":8}');
  const sae = await registerSource(store, join(dir, 'sae'), { kind: 'sae' });
  const producer = (activity: string, attempt: number) => ({ workflowId: 'sweep-42', runId: 'run-7', activity, attempt });
  const tok = await produceArtifact(
    store,
    { stage: 'tokenize', codeVersion: codeVersionFor('tokenize'), params: { maxLength: 64, numSamples: 1 }, inputs: [corpus.id, tokenizer.id] },
    async (w) => {
      await w.writeFile('tokens.bin', new Uint8Array([1, 2, 3]));
      return { counts: { tokens: 3 } };
    },
    { producer: producer('tokenize', 1) },
  );
  const ext = await produceArtifact(
    store,
    { stage: 'extract', codeVersion: codeVersionFor('extract'), params: { layer: 2, preset: 'gpt-neox' }, inputs: [tok.manifest.id, model.id] },
    async (w) => void (await w.writeFile('acts.arrow', new Uint8Array(16))),
    { producer: producer('extractLayer', 3) },
  );
  const enc = await produceArtifact(
    store,
    { stage: 'sae', codeVersion: codeVersionFor('sae'), params: { mode: 'pre', layer: 2 }, inputs: [ext.manifest.id, sae.id, corpus.id] },
    async (w) => void (await w.writeFile('stats.json', '{}')),
    { producer: producer('encodeSae', 1) },
  );
  return { dir, store, corpus, tokenizer, model, sae, tok: tok.manifest, ext: ext.manifest, enc: enc.manifest };
}

const ids = (n: LineageNode): unknown => [n.id, ...(n.inputs.length ? [n.inputs.map(ids)] : [])];

test('lineage tree follows inputs down to the source files, shared inputs shown once', async () => {
  const c = await buildChain();
  const tree = await lineageTree(c.store, c.enc.id);
  assert.deepEqual(ids(tree), [
    c.enc.id,
    [[c.ext.id, [[c.tok.id, [[c.corpus.id], [c.tokenizer.id]]], [c.model.id]]], [c.sae.id], [c.corpus.id]],
  ]);
  const corpusAgain = tree.inputs[2]!;
  assert.equal(corpusAgain.repeated, true);
  assert.deepEqual(
    lineageSources(tree).map((m) => m.source?.kind).sort(),
    ['corpus', 'model', 'sae', 'tokenizer'],
  );

  const text = formatLineage(tree);
  for (const m of [c.enc, c.ext, c.tok, c.corpus, c.tokenizer, c.model, c.sae]) assert.ok(text.includes(m.id), m.id);
  assert.ok(text.includes(`sha256 ${sha256Bytes('onnx-bytes')}`), 'model file hash shown');
  assert.ok(text.includes(`sha256 ${sha256Bytes('{"k":8}')}`), 'SAE file hash shown');
  assert.ok(text.includes(join(c.dir, 'corpus.jsonl')));
  assert.match(text, /params: layer=2 preset=gpt-neox/);
  assert.match(text, /workflow sweep-42\/run-7, activity extractLayer, attempt 3/);
  assert.match(text, /counts: tokens=3/);
  assert.match(text, /\(shown above\)/);
  assert.match(text, /└─ /);
});

test('flattened lineage has one row per edge, sources carrying their file hashes', async () => {
  const c = await buildChain();
  const rows = flattenLineage(await lineageTree(c.store, c.ext.id));
  assert.deepEqual(
    rows.map((r) => [r.id, r.usedBy, r.depth]),
    [
      [c.ext.id, '', 0],
      [c.tok.id, c.ext.id, 1],
      [c.corpus.id, c.tok.id, 2],
      [c.tokenizer.id, c.tok.id, 2],
      [c.model.id, c.ext.id, 1],
    ],
  );
  assert.equal(rows[0]!.attempt, 3);
  assert.equal(rows[0]!.params, '{"layer":2,"preset":"gpt-neox"}');
  assert.equal(rows[4]!.sourceHashes, `:${sha256Bytes('onnx-bytes')}`);
  assert.equal(rows[4]!.sourcePath, join(c.dir, 'model.onnx'));
});

test('a missing input is shown as missing, not as an error', async () => {
  const c = await buildChain();
  const { rmSync } = await import('node:fs');
  rmSync(c.store.artifactDir(c.tok.id), { recursive: true });
  const tree = await lineageTree(c.store, c.ext.id);
  assert.equal(tree.inputs[0]?.missing, true);
  assert.match(formatLineage(tree), new RegExp(`${c.tok.id}  MISSING`));
});

test('keyParams flattens nested params and truncates long ones', () => {
  assert.equal(keyParams({ b: { c: 1, d: 'x' }, a: [1, 2], n: null }), 'b.c=1 b.d=x a=[1,2] n=null');
  assert.match(keyParams(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))), /…\(\+12\)$/);
});

test('results.parquet#row resolves to the artifact id carried by that row', async () => {
  const c = await buildChain();
  const table = join(c.dir, 'results.parquet');
  await writeParquetTable(table, [
    { name: 'layer_a', data: [1, 2], type: 'INT32' },
    { name: 'svcca', data: [0.5, 0.7], type: 'DOUBLE' },
    { name: 'artifact_id', data: [c.ext.id, c.enc.id], type: 'STRING' },
  ]);
  assert.equal(await resolveArtifactRef(`${table}#1`), c.enc.id);
  assert.equal(await resolveArtifactRef(`${table}#0`), c.ext.id);
  await assert.rejects(resolveArtifactRef(`${table}#2`), /row 2 does not exist \(the table has 2 rows/);
  await assert.rejects(resolveArtifactRef(`${table}#x`), /not a non-negative integer/);
  await assert.rejects(resolveArtifactRef('not-an-id'), /neither an artifact id/);
  writeFileSync(join(c.dir, 'junk.parquet'), 'not parquet');
  await assert.rejects(resolveArtifactRef(`${join(c.dir, 'junk.parquet')}#0`), /junk\.parquet: not a readable Parquet file/);
  const noIds = join(c.dir, 'noids.parquet');
  await writeParquetTable(noIds, [{ name: 'svcca', data: [0.5], type: 'DOUBLE' }]);
  await assert.rejects(resolveArtifactRef(`${noIds}#0`), /has no artifact id column/);

  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/ufg.mjs', 'lineage', ...args], { encoding: 'utf8' });
  const r = cli(`${table}#1`, '--store', c.store.root);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${c.enc.id}  sae`));
  assert.ok(r.stdout.includes(sha256Bytes('onnx-bytes')));
  const j = cli(c.ext.id, '--store', c.store.root, '--json');
  assert.equal(j.status, 0, j.stderr);
  assert.deepEqual(ids(JSON.parse(j.stdout)), [c.ext.id, [[c.tok.id, [[c.corpus.id], [c.tokenizer.id]]], [c.model.id]]]);
  const missing = cli('extract-0000000000000000', '--store', c.store.root);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^ufg lineage: no complete artifact extract-0000000000000000/);
  assert.ok(!missing.stderr.includes('    at '), 'no stack trace');
});
