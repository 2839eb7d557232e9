// `ufg sweep plan`: the layer → tapped tensor → SAE → hookpoint table, before anything runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDemoFixtures } from '../cli/commands/demo.ts';
import { demoConfig } from '../pipelines/config.ts';
import { assertUsageError, runUfg } from './cliRun.ts';

let dir: string;
let fixtures: string;

/** The demo config written as a sweep.json, with `change` applied to its JSON. */
function sweepFile(name: string, change: (j: Record<string, any>) => void = () => {}): string {
  const { source: _source, ...json } = demoConfig(fixtures, join(dir, 'out')) as unknown as Record<string, any>;
  change(json);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(json));
  return file;
}

before(async () => {
  fixtures = await ensureDemoFixtures();
  dir = mkdtempSync(join(tmpdir(), 'ufg-plan-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the plan lists, per model and layer, the tapped tensor, the SAE file and the hookpoint it was trained on', () => {
  const r = runUfg('sweep', 'plan', '--config', sweepFile('demo.json'));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^model\s+layer\s+tapped tensor\s+SAE file\s+hookpoint \(read from\)\s+SAE trained on\s+match$/);
  const rows = lines.slice(2);
  assert.equal(rows.length, 4);
  assert.match(rows[0]!, /^a: fixture-a \(d=64\)\s+1\s+\/gpt_neox\/layers\.0\/Add_1_output_0\s+\S*modelA-sparsify\/layers\.0\/sae\.safetensors\s+layers\.0 \(folder name\)\s+hidden_states\[1\] \(output of block 0\)\s+yes$/);
  assert.match(rows[3]!, /^b: fixture-b \(d=96\)\s+2\s+\/gpt_neox\/layers\.1\/Add_1_output_0\s+\S*blocks\.1\.hook_resid_post\/sae_weights\.safetensors\s+blocks\.1\.hook_resid_post \(cfg\.json hook_name\)\s+hidden_states\[2\] \(output of block 1\)\s+yes$/);
});

test('compat reference keeps the original offset and says so on every row; a shifted explicit map is flagged', () => {
  const ref = runUfg('sweep', 'plan', '--config', sweepFile('ref.json', (j) => {
    j.compat = 'reference';
    j.models.a.layers = [0, 1];
  }));
  assert.equal(ref.code, 0, ref.stderr);
  assert.match(ref.stdout, /a: fixture-a \(d=64\)\s+0\s+\/gpt_neox\/embed_in\/Gather_output_0\s+\S+layers\.0\/sae\.safetensors\s+layers\.0 \(folder name\)\s+hidden_states\[1\] \(output of block 0\)\s+offset \(compat reference\)/);
  assert.match(ref.stdout, /note: models\.a \(fixture-a \(d=64\)\) layer 0: compat reference: the original code's offset — hidden_states\[0\] \(embeddings\) is fed to the SAE of block 0/);

  const shifted = runUfg('sweep', 'plan', '--config', sweepFile('shifted.json', (j) => {
    j.models.a.sae = { '1': join(j.models.a.sae, 'layers.1'), '2': join(j.models.a.sae, 'layers.0') };
  }));
  assert.equal(shifted.code, 0, shifted.stderr);
  assert.match(shifted.stdout, /a: fixture-a \(d=64\)\s+1\s+.*layers\.1 \(folder name\)\s+hidden_states\[2\] \(output of block 1\)\s+NO/);
  assert.match(shifted.stdout, /warning: models\.a \(fixture-a \(d=64\)\) layer 2: trained on hidden_states\[1\] \(output of block 0\) \(layers\.0\) but applied to hidden_states\[2\]/);
});

test('a layer without an SAE trained on its tensor is one clear error naming the config field', () => {
  const r = runUfg('sweep', 'plan', '--config', sweepFile('embed.json', (j) => (j.models.a.layers = [0, 1])));
  assertUsageError(r, /embed\.json: models\.a\.sae: .*modelA-sparsify: no SAE trained on hidden_states\[0\] \(embeddings\); found layers\.0\/sae\.safetensors: layers\.0 → hidden_states\[1\]/, 'embeddings');
});
