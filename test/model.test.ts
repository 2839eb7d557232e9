import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { isUserInputError } from '../pipelines/errors.ts';
import { loadOnnxModel, onnx } from '../pipelines/model/loadOnnx.ts';
import { presetLayers, resolveTaps } from '../pipelines/model/presets.ts';
import { tapModel } from '../pipelines/model/tap.ts';
import { sha256File } from '../storage/atomic.ts';
import { ensureFixtures, FIXTURE_VOCAB_SIZE, MODEL_A } from './fixtures/generate.ts';
import { FIXTURE_PLANTED_OPTIONS, plantedUniverse } from './fixtures/planted.ts';

const made: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'ufg-model-'));
  made.push(d);
  return d;
};
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

function userError(re: RegExp) {
  return (e: unknown) => {
    assert.ok(isUserInputError(e), `expected UserInputError, got ${e}`);
    assert.match((e as Error).message, re);
    assert.ok(!(e as Error).message.includes('\n'));
    return true;
  };
}

test('presets pick embedding output and each block\'s last residual add, in torch.onnx naming', async () => {
  const fx = await ensureFixtures();
  const a = (await loadOnnxModel(fx.modelA)).proto.graph!;
  assert.deepEqual(presetLayers(a, 'gpt-neox', fx.modelA).map((t) => t.tensor), [
    '/gpt_neox/embed_in/Gather_output_0',
    '/gpt_neox/layers.0/Add_1_output_0',
    '/gpt_neox/layers.1/Add_1_output_0',
  ]);
  const b = (await loadOnnxModel(fx.modelB)).proto.graph!;
  assert.equal(presetLayers(b, 'gpt-neox', fx.modelB).length, 4);
  const g = (await loadOnnxModel(fx.modelGpt2)).proto.graph!;
  // GPT-2: hidden_states[0] = wte + wpe, reached by following the embedding through /transformer/Add.
  assert.deepEqual(presetLayers(g, 'gpt2', fx.modelGpt2).map((t) => t.tensor), [
    '/transformer/Add_output_0',
    '/transformer/h.0/Add_1_output_0',
    '/transformer/h.1/Add_1_output_0',
  ]);
  const l = (await loadOnnxModel(fx.modelLlama)).proto.graph!;
  assert.deepEqual(presetLayers(l, 'llama', fx.modelLlama).map((t) => t.tensor), [
    '/model/embed_tokens/Gather_output_0',
    '/model/layers.0/Add_1_output_0',
    '/model/layers.1/Add_1_output_0',
  ]);
  assert.throws(() => presetLayers(a, 'gpt2', fx.modelA), userError(/model-a\.onnx: preset gpt2 finds no embedding lookup/));
});

test('custom patterns with {layer} and *; bad patterns and layers are user errors naming the file', async () => {
  const fx = await ensureFixtures();
  const g = (await loadOnnxModel(fx.modelB)).proto.graph!;
  assert.deepEqual(resolveTaps(g, { pattern: '/gpt_neox/layers.{layer}/Add_output_0' }, [0, 2], fx.modelB), [
    { layer: 0, tensor: '/gpt_neox/layers.0/Add_output_0' },
    { layer: 2, tensor: '/gpt_neox/layers.2/Add_output_0' },
  ]);
  assert.deepEqual(resolveTaps(g, { pattern: '*layers.{layer}/post_attention_layernorm/LayerNormalization_output_0' }, [1], fx.modelB)[0]!.tensor,
    '/gpt_neox/layers.1/post_attention_layernorm/LayerNormalization_output_0');
  assert.throws(() => resolveTaps(g, { pattern: '/gpt_neox/layers.{layer}/Nope_output_0' }, [0], fx.modelB), userError(/model-b\.onnx: pattern .* matches no tensor for layer 0/));
  assert.throws(() => resolveTaps(g, { pattern: '/gpt_neox/layers.{layer}/*' }, [0], fx.modelB), userError(/matches \d+ tensors for layer 0/));
  assert.throws(() => resolveTaps(g, { pattern: '/gpt_neox/layers.0/Add_output_0' }, [0], fx.modelB), userError(/must contain \{layer\}/));
  assert.throws(() => resolveTaps(g, { preset: 'gpt-neox' }, [4], fx.modelB), userError(/model-b\.onnx: layer 4 out of range: preset gpt-neox finds 3 blocks, so layers are 0\.\.3/));
  assert.throws(() => resolveTaps(g, { preset: 'gpt-neox' }, [-1], fx.modelB), userError(/layer -1 out of range/));
});

test('corrupt, empty and missing ONNX files are user errors naming the file', async () => {
  const dir = await tmp();
  const junk = join(dir, 'junk.onnx');
  await writeFile(junk, Buffer.from('this is definitely not a protobuf model \x00\xff\xfe'));
  await assert.rejects(loadOnnxModel(junk), userError(/junk\.onnx: not a valid ONNX model/));
  const empty = join(dir, 'empty.onnx');
  await writeFile(empty, new Uint8Array(0));
  await assert.rejects(loadOnnxModel(empty), userError(/empty\.onnx: not a valid ONNX model/));
  await assert.rejects(loadOnnxModel(join(dir, 'absent.onnx')), userError(/absent\.onnx: cannot read ONNX model \(ENOENT\)/));
});

test('tapped model: content-addressed, pruned of the LM head, outputs the residual tensors', async () => {
  const fx = await ensureFixtures();
  const dir = await tmp();
  const model = await loadOnnxModel(fx.modelA);
  const taps = resolveTaps(model.proto.graph!, { preset: 'gpt-neox' }, [0, 1], fx.modelA);
  const t1 = await tapModel(model, taps, dir);
  const again = await tapModel(model, taps, dir);
  const other = await tapModel(model, resolveTaps(model.proto.graph!, { preset: 'gpt-neox' }, [2], fx.modelA), dir);
  assert.equal(t1.path, again.path);
  assert.notEqual(t1.path, other.path);
  assert.match(basename(t1.path), /^[0-9a-f]{64}\.onnx$/);
  assert.equal(t1.modelSha256, await sha256File(fx.modelA));

  const tapped = onnx.ModelProto.decode(await readFile(t1.path));
  assert.deepEqual(tapped.graph!.output!.map((o) => o.name), taps.map((t) => t.tensor));
  assert.ok(!tapped.graph!.node!.some((n) => (n.output ?? []).includes('logits')), 'LM head pruned');
  assert.ok(!tapped.graph!.node!.some((n) => (n.name ?? '').startsWith('/gpt_neox/layers.1/')), 'blocks after the deepest tap pruned');
  assert.ok(tapped.graph!.node!.length < model.proto.graph!.node!.length);

  // Layer 0 is the embedding lookup: rows of the planted embeddings, computed independently.
  const planted = plantedUniverse({ ...FIXTURE_PLANTED_OPTIONS, vocabSize: FIXTURE_VOCAB_SIZE, dA: MODEL_A.dModel, dB: 96 });
  const session = await ort.InferenceSession.create(t1.path);
  const ids = [3, 77, 500, 0];
  const out = await session.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, 4]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
  });
  const emb = out[taps[0]!.tensor]!.data as Float32Array;
  const d = MODEL_A.dModel;
  ids.forEach((id, p) => assert.deepEqual(Array.from(emb.subarray(p * d, (p + 1) * d)), Array.from(planted.embeddingsA.data.subarray(id * d, (id + 1) * d))));
  // Block 0 output = embedding + a small perturbation (block weights std 0.02).
  const h1 = out[taps[1]!.tensor]!.data as Float32Array;
  let diff = 0, norm = 0;
  for (let i = 0; i < emb.length; i++) [diff, norm] = [diff + (h1[i]! - emb[i]!) ** 2, norm + emb[i]! ** 2];
  assert.ok(diff > 0 && diff < 0.25 * norm, `perturbation ${Math.sqrt(diff / norm)}`);
});

test('ufg inspect-model lists inputs, outputs and the tensors each preset taps; bad files exit 2', async () => {
  const fx = await ensureFixtures();
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/ufg.mjs', 'inspect-model', ...args], { encoding: 'utf8' });
  const ok = cli(fx.modelB);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /input_ids {2}int64\[batch_size, sequence_length\]/);
  assert.match(ok.stdout, /logits {2}float32\[batch_size, sequence_length, 512\]/);
  assert.match(ok.stdout, /preset gpt-neox .*: 3 blocks/);
  assert.match(ok.stdout, /layer 3: \/gpt_neox\/layers\.2\/Add_1_output_0/);
  assert.doesNotMatch(ok.stdout, /preset gpt2/);
  const gpt2 = cli(fx.modelGpt2, '--preset', 'gpt2');
  assert.match(gpt2.stdout, /layer 0: \/transformer\/Add_output_0/);
  const pat = cli(fx.modelA, '--pattern', '/gpt_neox/layers.{layer}/Add_output_0', '--layers', '0,1');
  assert.match(pat.stdout, /layer 1: \/gpt_neox\/layers\.1\/Add_output_0/);
  const wrong = cli(fx.modelA, '--preset', 'llama');
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /^ufg inspect-model: .*model-a\.onnx: preset llama finds no embedding lookup/);
  const dir = await tmp();
  const junk = join(dir, 'junk.onnx');
  await writeFile(junk, 'garbage');
  const bad = cli(junk);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /junk\.onnx: not a valid ONNX model/);
});
