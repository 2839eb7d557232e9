import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { artifactId, canonicalJson, codeVersionFor, CODE_VERSION, isArtifactId, stageOfId } from '../storage/artifactId.ts';

const base = {
  stage: 'extract',
  codeVersion: codeVersionFor('extract'),
  params: { layer: 3, model: { preset: 'gpt-neox', dtype: 'f32' }, batchSize: 8, tags: ['a', 'b'] },
  inputs: ['source-0123456789abcdef', 'source-fedcba9876543210'],
};

test('canonical JSON sorts keys recursively and normalises -0', () => {
  assert.equal(canonicalJson({ b: { d: 1, c: -0 }, a: [3, { z: 1, y: 2 }] }), '{"a":[3,{"y":2,"z":1}],"b":{"c":0,"d":1}}');
  assert.equal(canonicalJson({ a: 1.0, u: undefined }), '{"a":1}');
  assert.throws(() => canonicalJson({ x: NaN }), /non-finite/);
  assert.throws(() => canonicalJson({ x: new Float32Array(2) }), /binary/);
});

test('id has a readable stage prefix and ignores param key order', () => {
  const id = artifactId(base);
  assert.match(id, /^extract-[0-9a-f]{16}$/);
  assert.ok(isArtifactId(id));
  assert.equal(stageOfId(id), 'extract');
  const reordered = {
    inputs: [...base.inputs],
    params: { tags: ['a', 'b'], batchSize: 8, model: { dtype: 'f32', preset: 'gpt-neox' }, layer: 3 },
    codeVersion: base.codeVersion,
    stage: 'extract',
  };
  assert.equal(artifactId(reordered), id);
});

test('any change of param, input, input order, stage or code version changes the id', () => {
  const id = artifactId(base);
  const variants = [
    { ...base, params: { ...base.params, layer: 4 } },
    { ...base, params: { ...base.params, model: { preset: 'gpt-neox', dtype: 'f16' } } },
    { ...base, params: { ...base.params, tags: ['b', 'a'] } },
    { ...base, params: { ...base.params, extra: false } },
    { ...base, params: { ...base.params, layer: '3' } },
    { ...base, inputs: [base.inputs[0]!] },
    { ...base, inputs: [base.inputs[1]!, base.inputs[0]!] },
    { ...base, inputs: [base.inputs[0]!, 'source-0000000000000000'] },
    { ...base, codeVersion: base.codeVersion + '.1' },
    { ...base, codeVersion: codeVersionFor('sae') },
    { ...base, stage: 'sae' },
  ];
  const ids = new Set([id, ...variants.map(artifactId)]);
  assert.equal(ids.size, variants.length + 1);
});

test('per-stage code versions differ between stages and carry the package version', () => {
  assert.notEqual(codeVersionFor('extract'), codeVersionFor('pair'));
  assert.ok(codeVersionFor('pair').startsWith(CODE_VERSION + '+pair.'));
});

test('id is stable across processes', () => {
  const script = `import('./storage/artifactId.ts').then(m => process.stdout.write(m.artifactId(${JSON.stringify(base)})))`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, artifactId(base));
});

test('bad stage names and input ids are refused (ids double as path segments)', () => {
  assert.throws(() => artifactId({ ...base, stage: '../x' }), /stage/);
  assert.throws(() => artifactId({ ...base, inputs: ['../../etc'] }), /input/);
});
