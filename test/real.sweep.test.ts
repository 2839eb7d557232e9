// Sweeps over SAEs the real libraries trained (test/fixtures/real): each layer gets the SAE trained
// on its tensor — sparsify checkpoints by their folder names, SAELens SAEs by cfg.json's hook_name —
// and fits it (FVU well below the warning level). Shifted by one block, as the original code maps
// them, the same SAEs fit badly and the sweep says so.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startSweep, waitForSweep } from '../cli/sweepClient.ts';
import { parseSweepConfig, type SweepConfig } from '../pipelines/config.ts';
import { formatPlan, planSweep } from '../pipelines/sweepPlan.ts';
import { readParquetTable } from '../storage/parquet.ts';
import { REAL_DIR, manifest } from './realGoldens.ts';
import { startSweepTestEnv, type SweepTestEnv } from './temporal.env.ts';

let env: SweepTestEnv;
before(async () => {
  env = await startSweepTestEnv();
});
after(async () => {
  await env?.stop();
});

/** One family's model on both sides (the goldens' families do not share a tokenizer). */
function realConfig(family: string, sae: { a: string | Record<string, string>; b: string | Record<string, string> }, layers: { a: number[]; b: number[] }, name: string): SweepConfig {
  const m = manifest.models[family]!;
  const model = join(REAL_DIR, m.folder, 'model.onnx'), tokenizer = join(REAL_DIR, m.folder, 'tokenizer.json');
  return parseSweepConfig(
    {
      title: `real ${family}: ${name}`,
      corpus: { path: join(REAL_DIR, 'corpus.txt'), maxLength: 32, batchSize: 8 },
      models: {
        a: { name: `${family} a`, model, tokenizer, sae: sae.a, layers: layers.a, preset: m.ufg_preset },
        b: { name: `${family} b`, model, tokenizer, sae: sae.b, layers: layers.b, preset: m.ufg_preset },
      },
      similarity: { permutations: 20 },
      outDir: join(env.dir, `out-${family}-${name}`),
      chunkTokens: 256,
    },
    join(env.dir, `${family}-${name}.json`),
  );
}

async function fits(config: SweepConfig) {
  const { workflowId } = await startSweep(env.client, config);
  const out = await waitForSweep(env.client, workflowId);
  const t = await readParquetTable(out.resultsPath);
  const byLayer = new Map<string, { fvu: number; hookpoint: string }>();
  for (let i = 0; i < t.numRows; i++) {
    for (const side of ['a', 'b'] as const) {
      byLayer.set(`${side}${t.columns[`layer_${side}`]![i]}`, { fvu: t.columns[`sae_fvu_${side}`]![i] as number, hookpoint: t.columns[`sae_hookpoint_${side}`]![i] as string });
    }
  }
  return { out, byLayer };
}

describe('real SAE releases', () => {
  test('sparsify checkpoints (GPT-NeoX, folders layers.N): each layer gets the SAE of its tensor and fits it; shifted by one block they do not, and the sweep warns', async (t) => {
    const root = join(REAL_DIR, 'saes', 'sparsify', 'gpt-neox');
    const config = realConfig('gpt-neox', { a: root, b: root }, { a: [1, 2, 3], b: [1, 3] }, 'right');
    const plan = await planSweep(config);
    assert.deepEqual(plan.rows.map((r) => [r.side, r.layer, r.sae.hookpoint?.name, r.sae.hookpoint?.trainedOn]), [
      ['a', 1, 'layers.0', 1], ['a', 2, 'layers.1', 2], ['a', 3, 'layers.2', 3], ['b', 1, 'layers.0', 1], ['b', 3, 'layers.2', 3],
    ]);
    assert.ok(!/warning/.test(formatPlan(plan, REAL_DIR)));
    const right = await fits(config);
    assert.deepEqual(right.out.warnings, []);
    for (const [layer, f] of right.byLayer) {
      assert.ok(f.fvu < 0.5, `${layer}: FVU ${f.fvu} on the tensor its SAE was trained on`);
      assert.match(f.hookpoint, /^layers\.\d → hidden_states\[\d\]$/);
    }

    // The original code's mapping: hidden_states[L] to the SAE of block L (trained on L + 1).
    const shifted = { '1': join(root, 'layers.1'), '2': join(root, 'layers.2') };
    const wrong = await fits(realConfig('gpt-neox', { a: shifted, b: shifted }, { a: [1, 2], b: [1, 2] }, 'shifted'));
    for (const layer of [1, 2]) {
      const f = wrong.byLayer.get(`a${layer}`)!;
      const before = right.byLayer.get(`a${layer + 1}`)!.fvu;
      assert.ok(f.fvu > 0.5 && f.fvu > 2 * before, `layer ${layer} with the SAE of block ${layer}: FVU ${f.fvu} (on its own tensor ${before})`);
    }
    const fvus = (m: Map<string, { fvu: number }>) => [...m].map(([l, f]) => `${l} ${f.fvu.toFixed(3)}`).join(', ');
    t.diagnostic(`FVU by hookpoint: ${fvus(right.byLayer)}; shifted as the original code: ${fvus(wrong.byLayer)}`);
    assert.ok(wrong.out.warnings.some((w) => /layer 1: trained on hidden_states\[2\]/.test(w)), 'the plan warns of the mapping');
    assert.ok(wrong.out.warnings.some((w) => /FVU \d+\.\d{3} > 0\.5 .*probably trained on another tensor/.test(w)), wrong.out.warnings.join('\n'));
  });

  test('SAELens SAEs (Llama, hook_name in cfg.json metadata): resid_post of block N serves layer N+1, resid_pre of block N layer N; two for one layer must be chosen explicitly', async () => {
    const root = join(REAL_DIR, 'saes', 'saelens', 'llama');
    // Layer 2 has two SAEs trained on it: blocks.1.hook_resid_post and blocks.2.hook_resid_pre.
    await assert.rejects(planSweep(realConfig('llama', { a: root, b: root }, { a: [2], b: [2] }, 'ambiguous')), /2 SAEs fit layer 2 .*map layers to SAE files explicitly/);
    const a = root;
    const b = { '2': join(root, 'blocks.2.hook_resid_pre'), '3': join(root, 'blocks.2.hook_resid_post') };
    const config = realConfig('llama', { a, b }, { a: [1, 3], b: [2, 3] }, 'right');
    const plan = await planSweep(config);
    assert.deepEqual(plan.rows.map((r) => [r.side, r.layer, r.sae.hookpoint?.name, r.sae.hookpoint?.from]), [
      ['a', 1, 'blocks.0.hook_resid_post', 'cfg.json metadata.hook_name'],
      ['a', 3, 'blocks.2.hook_resid_post', 'cfg.json metadata.hook_name'],
      ['b', 2, 'blocks.2.hook_resid_pre', 'cfg.json metadata.hook_name'],
      ['b', 3, 'blocks.2.hook_resid_post', 'cfg.json metadata.hook_name'],
    ]);
    const r = await fits(config);
    assert.deepEqual(r.out.warnings, []);
    for (const [layer, f] of r.byLayer) assert.ok(f.fvu < 0.5, `${layer}: FVU ${f.fvu}`);
  });
});
