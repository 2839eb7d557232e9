// Which SAE each layer gets: the one trained on that layer's tensor, read from what each library
// writes (SAELens cfg.json hook_name, sparsify folder names, Gemma Scope layer_N folders).
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isUserInputError } from '../pipelines/errors.ts';
import { namesNonResidualHook, parseHookFolder, parseSaeLensHook } from '../pipelines/sae/hookpoint.ts';
import { resolveLayerSaes } from '../pipelines/sae/layerSaes.ts';
import { generateSaeFixtures, saeFolder, type SaeFixtureSet } from './fixtures/saes.ts';

let dir: string;
let fx: SaeFixtureSet;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ufg-sae-layers-'));
  fx = await generateSaeFixtures(join(dir, 'fx'), { modelA: { d: 64, layers: 2 }, modelB: { d: 96, layers: 3 } });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const userError = (pattern: RegExp) => (e: unknown) => {
  assert.ok(isUserInputError(e), `expected UserInputError, got ${String(e)}`);
  assert.match((e as Error).message, pattern);
  return true;
};

test('hook names of every library map to the tensor the SAE was trained on', () => {
  const trained = (name: string) => parseHookFolder(name)?.trainedOn;
  // sparsify names checkpoints after the hooked module: the output of block N = hidden_states[N+1].
  assert.equal(trained('layers.3'), 4);
  assert.equal(trained('gpt_neox.layers.3'), 4);
  assert.equal(trained('model.layers.0'), 1);
  assert.equal(trained('h.3'), 4);
  assert.equal(trained('transformer.h.11'), 12);
  // SAELens: resid_post of block N = hidden_states[N+1]; resid_pre of block N = hidden_states[N].
  assert.equal(trained('blocks.3.hook_resid_post'), 4);
  assert.equal(trained('blocks.3.hook_resid_pre'), 3);
  assert.equal(parseSaeLensHook('blocks.0.hook_resid_pre', 'cfg.json hook_name', 'cfg.json').trainedOn, 0);
  // Gemma Scope layer_N = the output of block N.
  assert.equal(trained('layer_12'), 13);
  for (const name of ['width_16k', 'average_l0_71', 'layers', 'blocks.3.hook_mlp_out', 'layers.3.mlp']) assert.equal(parseHookFolder(name), undefined, name);
  assert.ok(namesNonResidualHook('layers.3.mlp') && namesNonResidualHook('blocks.2.hook_mlp_out') && !namesNonResidualHook('layers.3'));
  assert.throws(() => parseSaeLensHook('blocks.2.hook_mlp_out', 'cfg.json hook_name', '/x/cfg.json'), userError(/\/x\/cfg\.json: .*"blocks\.2\.hook_mlp_out": not a residual-stream hook/));
});

test('release folders: each layer gets the SAE trained on its tensor (sparsify, SAELens, Gemma Scope)', async () => {
  const a = await resolveLayerSaes({ sae: fx.modelA.roots.f32.native, layers: [1, 2] }, 'trained-tensor');
  assert.deepEqual(a.map((r) => [r.layer, r.file, r.mappedBy, r.hookpoint?.name]), [
    [1, join(saeFolder(fx.modelA.roots.f32.native, 'sparsify', 0), 'sae.safetensors'), 'hookpoint', 'layers.0'],
    [2, join(saeFolder(fx.modelA.roots.f32.native, 'sparsify', 1), 'sae.safetensors'), 'hookpoint', 'layers.1'],
  ]);
  assert.ok(a.every((r) => r.warning === undefined && r.note === undefined));
  const b = await resolveLayerSaes({ sae: fx.modelB.roots.f32.native, layers: [3] }, 'trained-tensor');
  assert.equal(b[0]!.hookpoint?.from, 'cfg.json hook_name');
  assert.equal(b[0]!.file, join(saeFolder(fx.modelB.roots.f32.native, 'saelens', 2), 'sae_weights.safetensors'));
  const g = await resolveLayerSaes({ sae: fx.modelB.roots.f32.gemmaScope, layers: [1, 3] }, 'trained-tensor');
  assert.deepEqual(g.map((r) => r.hookpoint?.name), ['layer_0', 'layer_2']);
  // The embeddings (layer 0) have no block-output SAE: a clear error listing what there is.
  await assert.rejects(
    resolveLayerSaes({ sae: fx.modelA.roots.f32.native, layers: [0] }, 'trained-tensor'),
    userError(/modelA-sparsify: no SAE trained on hidden_states\[0\] \(embeddings\); found layers\.0\/sae\.safetensors: layers\.0 → hidden_states\[1\] \(output of block 0\); layers\.1\/sae\.safetensors: layers\.1 → hidden_states\[2\]/),
  );
});

test('compat reference keeps the original offset (hidden_states[i] → the SAE of block i) and says so', async () => {
  const r = await resolveLayerSaes({ sae: fx.modelA.roots.f32.native, layers: [0, 1] }, 'reference');
  assert.deepEqual(r.map((x) => x.hookpoint?.name), ['layers.0', 'layers.1']);
  assert.match(r[1]!.note!, /compat reference: the original code's offset — hidden_states\[1\] \(output of block 0\) is fed to the SAE of block 1, trained on hidden_states\[2\]/);
  await assert.rejects(resolveLayerSaes({ sae: fx.modelA.roots.f32.native, layers: [2] }, 'reference'), userError(/no SAE of block 2 \(compat reference\)/));
});

test('GPT-2 sparsify folders (h.N), module prefixes, SAELens metadata.hook_name and resid_pre', async () => {
  const root = join(dir, 'mixed');
  const from = (b: number) => saeFolder(fx.modelA.roots.f32.native, 'sparsify', b);
  await cp(from(0), join(root, 'gpt2', 'h.0'), { recursive: true });
  await cp(from(1), join(root, 'gpt2', 'h.1'), { recursive: true });
  await cp(from(0), join(root, 'neox', 'gpt_neox.layers.0'), { recursive: true });
  const gpt2 = await resolveLayerSaes({ sae: join(root, 'gpt2'), layers: [1, 2] }, 'trained-tensor');
  assert.deepEqual(gpt2.map((r) => r.hookpoint?.name), ['h.0', 'h.1']);
  assert.equal((await resolveLayerSaes({ sae: join(root, 'neox'), layers: [1] }, 'trained-tensor'))[0]!.hookpoint?.trainedOn, 1);

  // cfg.json outranks a folder name; newer SAELens puts hook_name under metadata.
  const lens = join(root, 'lens', 'blocks.5.hook_resid_post');
  await cp(saeFolder(fx.modelB.roots.f32.native, 'saelens', 0), lens, { recursive: true });
  const cfg = JSON.parse(await readFile(join(lens, 'cfg.json'), 'utf8')) as Record<string, unknown>;
  delete cfg.hook_name;
  await writeFile(join(lens, 'cfg.json'), JSON.stringify({ ...cfg, metadata: { hook_name: 'blocks.2.hook_resid_pre' } }));
  const [pre] = await resolveLayerSaes({ sae: join(root, 'lens'), layers: [2] }, 'trained-tensor');
  assert.deepEqual(pre!.hookpoint, { name: 'blocks.2.hook_resid_pre', from: 'cfg.json metadata.hook_name', block: 2, site: 'resid_pre', trainedOn: 2 });
});

test('explicit maps are followed with a warning where the hookpoint disagrees; one SAE for several layers only when asked', async () => {
  const sae0 = saeFolder(fx.modelA.roots.f32.native, 'sparsify', 0);
  const sae1 = saeFolder(fx.modelA.roots.f32.native, 'sparsify', 1);
  const shifted = await resolveLayerSaes({ sae: { '1': sae1, '2': sae0 }, layers: [1, 2] }, 'trained-tensor');
  assert.deepEqual(shifted.map((r) => r.mappedBy), ['config', 'config']);
  assert.match(shifted[0]!.warning!, /trained on hidden_states\[2\] \(output of block 1\) \(layers\.1\) but applied to hidden_states\[1\] \(output of block 0\)/);
  const right = await resolveLayerSaes({ sae: { '1': sae0 }, layers: [1] }, 'trained-tensor');
  assert.equal(right[0]!.warning, undefined);

  // A single file with a known hookpoint is matched like a release; its own layer only.
  const file = join(sae0, 'sae.safetensors');
  assert.equal((await resolveLayerSaes({ sae: file, layers: [1] }, 'trained-tensor'))[0]!.file, file);
  await assert.rejects(resolveLayerSaes({ sae: file, layers: [1, 2] }, 'trained-tensor'), userError(/no SAE trained on hidden_states\[2\]/));
  await assert.rejects(resolveLayerSaes({ sae: { '1': sae0, '2': sae0 }, layers: [1, 2] }, 'trained-tensor'), userError(/layers 1 and 2 would both use .*sae\.safetensors; an SAE is trained on one tensor \(set "allowSharedSae": true/));
  const shared = await resolveLayerSaes({ sae: file, layers: [1, 2], allowSharedSae: true }, 'trained-tensor');
  assert.deepEqual(shared.map((r) => [r.mappedBy, r.warning === undefined]), [['single file', true], ['single file', false]]);

  // An SAE nothing on disk describes: usable for one layer, with a warning that nobody checked.
  const bare = join(dir, 'bare');
  await mkdir(bare, { recursive: true });
  await cp(join(sae0, 'sae.safetensors'), join(bare, 'sae.safetensors'));
  await cp(join(sae0, 'cfg.json'), join(bare, 'cfg.json'));
  const [unknown] = await resolveLayerSaes({ sae: bare, layers: [2] }, 'trained-tensor');
  assert.equal(unknown!.hookpoint, undefined);
  assert.match(unknown!.warning!, /nothing on disk says which tensor this SAE was trained on/);
  await assert.rejects(resolveLayerSaes({ sae: bare, layers: [1, 2] }, 'trained-tensor'), userError(/layers 1 and 2 would both use/));

  // Two SAEs for one layer (e.g. two widths): refused, naming both.
  const two = join(dir, 'two');
  await cp(sae0, join(two, 'layers.0'), { recursive: true });
  await cp(sae0, join(two, 'more', 'layers.0'), { recursive: true });
  await assert.rejects(resolveLayerSaes({ sae: two, layers: [1] }, 'trained-tensor'), userError(/2 SAEs fit layer 1 \(layers\.0\/sae\.safetensors, more\/layers\.0\/sae\.safetensors\); map layers to SAE files explicitly/));
});
