// `ufg sweep plan` for N models and controls: a row per model and layer, controls included, and a
// bad control named by its config field before anything runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDemoFixtures } from '../cli/commands/demo.ts';
import { demoThreeModelConfig } from '../pipelines/config.ts';
import { runUfg } from './cliRun.ts';

let dir: string;
let fixtures: string;

function sweepFile(name: string, change: (j: Record<string, any>) => void = () => {}): string {
  const { source: _source, ...json } = demoThreeModelConfig(fixtures, join(dir, 'out')) as unknown as Record<string, any>;
  change(json);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(json));
  return file;
}

before(async () => {
  fixtures = await ensureDemoFixtures();
  dir = mkdtempSync(join(tmpdir(), 'ufg-plan-n-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the plan of a three-model sweep with controls: every model and layer, the ceiling through its own SAEs, the floor through its model’s', () => {
  const r = runUfg('sweep', 'plan', '--config', sweepFile('three.json'));
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').slice(2);
  assert.deepEqual(rows.map((l) => l.split(/\s{2,}/).slice(0, 2).join(' @ ')), [
    'a: fixture-a (d=64) @ 1',
    'b: fixture-b (d=96) @ 1',
    'b: fixture-b (d=96) @ 2',
    'c: fixture-c (llama, d=64) @ 1',
    'a~ceiling: fixture-a (d=64) · other SAE (ceiling) @ 1',
    'a~floor: fixture-a (d=64) · random init (floor) @ 1',
  ]);
  assert.match(rows[3]!, /\/model\/layers\.0\/Add_1_output_0\s+\S*modelA-sparsify\/layers\.0\/sae\.safetensors/, 'c: Llama naming, read through A’s SAEs');
  assert.match(rows[4]!, /\S*modelA-gemmascope\/layer_0\/width_tiny\/average_l0_3\/params\.npz\s+layer_0 \(folder name\)\s+hidden_states\[1\]/);
  assert.match(rows[5]!, /\S*modelA-sparsify\/layers\.0\/sae\.safetensors/);
});

test('a ceiling SAE with no SAE for a layer is refused, naming controls.ceiling.sae', () => {
  const r = runUfg('sweep', 'plan', '--config', sweepFile('bad-ceiling.json', (j) => (j.controls.ceiling.sae = join(fixtures, 'saes', 'f32', 'modelB-saelens', 'blocks.1.hook_resid_post'))));
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stderr.trim(), /bad-ceiling\.json: controls\.ceiling\.sae: \S+blocks\.1\.hook_resid_post: no SAE trained on hidden_states\[1\]/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
