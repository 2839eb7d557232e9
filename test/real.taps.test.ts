// ufg's residual taps on real optimum exports (test/fixtures/real/models/*, made by
// make_goldens.py): every preset layer of each export, run through ufg's extraction on Hugging
// Face's own token ids, equals HF's hidden_states (layer 0 = embeddings, i = output of block i-1,
// the last = the raw output of the last block, not HF's final-normed entry).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { extractActivations, readActivationChunks, readTokenTable } from '../pipelines/extract/index.ts';
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { loadOnnxModel } from '../pipelines/model/loadOnnx.ts';
import { presetLayers } from '../pipelines/model/presets.ts';
import { loadTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';
import { documentsOf, hfFinalNormed, hfLayer, manifest, REAL_DIR, relativeError } from './realGoldens.ts';

const made: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'ufg-real-taps-'));
  made.push(d);
  return d;
};
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

// float32 forward passes by two runtimes (PyTorch, ONNX Runtime) agree to a few ulps of the
// activations' scale; 1e-5 of the largest |value| leaves room for that and for nothing else.
const TOL = 1e-5;

async function layerRows(dir: string, layer: number): Promise<Mat> {
  const parts: Mat[] = [];
  for await (const m of readActivationChunks(dir, layer)) parts.push(m);
  const data = new Float32Array(parts.reduce((n, m) => n + m.data.length, 0));
  let at = 0;
  for (const m of parts) (data.set(m.data, at), (at += m.data.length));
  return mat(data.length / parts[0]!.cols, parts[0]!.cols, data);
}

for (const [family, m] of Object.entries(manifest.models)) {
  const folder = join(REAL_DIR, m.folder);
  const modelPath = join(folder, 'model.onnx');

  test(`real ${family}: preset ${m.ufg_preset} finds the embeddings and every block of the optimum export (${m.export.task})`, async () => {
    const model = await loadOnnxModel(modelPath);
    const taps = presetLayers(model.proto.graph!, m.ufg_preset, modelPath);
    assert.deepEqual(taps.map((t) => t.layer), Array.from({ length: m.num_layers + 1 }, (_, i) => i));
    assert.equal(new Set(taps.map((t) => t.tensor)).size, taps.length, 'one tensor per layer');
    const scope = { 'gpt-neox': 'gpt_neox/layers', gpt2: 'transformer/h', llama: 'model/layers' }[m.ufg_preset];
    taps.slice(1).forEach((t, b) => assert.match(t.tensor, new RegExp(`/${scope}\\.${b}/Add(_\\d+)?_output_0$`), `layer ${b + 1}`));
  });

  test(`real ${family}: tapped layers equal HF hidden_states (padded batch of all documents)`, async () => {
    const docs = documentsOf(family);
    const layers = Array.from({ length: m.num_layers + 1 }, (_, i) => i);
    const out = await tmp();
    await extractActivations({
      model: modelPath, tokenizerJson: join(folder, 'tokenizer.json'), layers, preset: m.ufg_preset,
      tokens: docs.map((d, docId) => ({ docId, ids: Int32Array.from(d.input_ids) })),
      batchSize: docs.length, outDir: out, tapCacheDir: await tmp(), keepSpecialPositions: true,
    });
    assert.ok(new Set(docs.map((d) => d.length)).size > 1, 'documents differ in length, so the batch is padded');
    const table = await readTokenTable(out);
    assert.deepEqual(Array.from(table.tokenIds), docs.flatMap((d) => d.input_ids));
    for (const layer of layers) {
      const err = relativeError(await layerRows(out, layer), await hfLayer(family, layer));
      assert.ok(err <= TOL, `layer ${layer}: ufg differs from HF by ${err.toExponential(2)} of the scale`);
    }
    // ufg's last layer is the raw block output, not HF's final-normed hidden_states[L].
    const last = await layerRows(out, m.num_layers);
    assert.ok(relativeError(last, await hfFinalNormed(family)) > 0.1, 'last layer must not be the final-normed entry');

    // By default the special positions (Llama's and Gemma's BOS) are fed to the model but not
    // written: the rows that remain are HF's at every other position.
    const kept = await tmp();
    await extractActivations({
      model: modelPath, tokenizerJson: join(folder, 'tokenizer.json'), layers, preset: m.ufg_preset,
      tokens: docs.map((d, docId) => ({ docId, ids: Int32Array.from(d.input_ids) })),
      batchSize: docs.length, outDir: kept, tapCacheDir: await tmp(),
    });
    const keep = docs.flatMap((d) => d.input_ids.map((_, p) => !d.special_positions.includes(p)));
    assert.deepEqual(Array.from((await readTokenTable(kept)).tokenIds), docs.flatMap((d) => d.input_ids.filter((_, p) => !d.special_positions.includes(p))));
    for (const layer of layers) {
      const all = await hfLayer(family, layer);
      const rowsKept = keep.flatMap((k, r) => (k ? [r] : []));
      const data = new Float32Array(rowsKept.length * all.cols);
      rowsKept.forEach((r, i) => data.set(all.data.subarray(r * all.cols, (r + 1) * all.cols), i * all.cols));
      const rows = mat(rowsKept.length, all.cols, data);
      const err = relativeError(await layerRows(kept, layer), rows);
      assert.ok(err <= TOL, `layer ${layer} without special positions: ufg differs from HF by ${err.toExponential(2)} of the scale`);
    }
  });

  // Special tokens as Hugging Face adds them by default (Llama's <s>, Gemma's <bos>): the ids the
  // models were run on, BOS included.
  test(`real ${family}: ufg's tokenizer gives HF's ids for every document, special tokens included`, async () => {
    const tok = await loadTokenizer(join(folder, 'tokenizer.json'));
    for (const d of documentsOf(family)) assert.deepEqual(tok.encode(d.text), d.input_ids, d.text);
  });
}
