// `ufg verify` on a store a real sweep produced: clean → exit 0; one flipped byte in an activation
// chunk and one in the results table → exit 1 naming exactly those artifacts and files; bytes
// restored → exit 0 again.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { demoConfig } from '../../pipelines/config.ts';
import type { SweepOutcome } from '../../workflows/index.ts';
import { startSweepTestEnv, type SweepTestEnv } from '../temporal.env.ts';
import { spawnUfg } from './harness.ts';
import { committedArtifacts } from './sweepScenario.ts';

let env: SweepTestEnv;
let outcome: SweepOutcome;

before(async () => {
  const fixtures = await ensureDemoFixtures();
  env = await startSweepTestEnv();
  // The demo sweep cut to one layer pair: every stage's artifacts, in a few seconds.
  const config = structuredClone(demoConfig(fixtures, join(env.dir, 'out')));
  config.models = { a: { ...config.models.a, layers: [1] }, b: { ...config.models.b, layers: [2] } };
  const { workflowId } = await startSweep(env.client, config);
  outcome = await waitForSweep(env.client, workflowId);
});
after(async () => {
  await env?.stop();
});

async function verify(...args: string[]): Promise<{ code: number | string; out: string }> {
  const p = spawnUfg(['verify', '--store', env.storeRoot, ...args]);
  const code = await p.exited;
  return { code, out: p.output() };
}

/** Flips one bit of the byte in the middle of the file; returns the undo. */
function flipByte(path: string): () => void {
  const original = readFileSync(path);
  const changed = Buffer.from(original);
  const at = Math.floor(changed.length / 2);
  changed[at] = changed[at]! ^ 0x01;
  writeFileSync(path, changed);
  return () => writeFileSync(path, original);
}

test('ufg verify names the artifact and file of every flipped byte, and passes again once restored', async () => {
  const clean = await verify();
  assert.equal(clean.code, 0, clean.out);
  const ids = committedArtifacts(env.storeRoot);
  assert.match(clean.out, new RegExp(`ok: ${ids.length} artifacts`));

  const extractId = ids.find((id) => id.startsWith('extract-'))!;
  const chunk = readdirSync(join(env.storeRoot, extractId)).find((f) => /^chunk-\d+\.arrow$/.test(f))!;
  const resultsFile = 'results.parquet';
  const undo = [flipByte(join(env.storeRoot, extractId, chunk)), flipByte(join(env.storeRoot, outcome.resultsId, resultsFile))];

  const broken = await verify();
  assert.equal(broken.code, 1, broken.out);
  const problems = broken.out.split('\n').filter((l) => /: changed-file: /.test(l));
  assert.equal(problems.length, 2, broken.out);
  assert.match(broken.out, new RegExp(`${extractId}: changed-file: ${chunk.replace('.', '\\.')} changed`));
  assert.match(broken.out, new RegExp(`${outcome.resultsId}: changed-file: results\\.parquet changed`));
  assert.match(broken.out, new RegExp(`FAILED: 2 of ${ids.length} artifacts have problems`));

  const one = await verify(outcome.resultsId);
  assert.equal(one.code, 1);
  assert.ok(!one.out.includes(extractId), 'verifying one id reports only that artifact');

  for (const u of undo) u();
  const restored = await verify();
  assert.equal(restored.code, 0, restored.out);
});
