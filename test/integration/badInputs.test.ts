// Every bad input on the model side and the numerics side fails the sweep workflow at once: one
// message naming the file, never retried (every activity attempt is 1, the failure is
// non-retryable), and no committed artifact for the stage that failed. Which stage catches each
// input is recorded too: most are caught by the up-front validation activity.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultPayloadConverter, type Client } from '@temporalio/client';
import { SweepFailedError, startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import type { SweepConfig } from '../../pipelines/config.ts';
import { isArtifactId } from '../../storage/artifactId.ts';
import type { Manifest } from '../../storage/manifest.ts';
import { pairWorkflowId, prepWorkflowId } from '../../workflows/index.ts';
import { demoSweepSuite, type SweepTestEnv } from '../temporal.env.ts';
import { committedArtifacts, readManifestJson } from './sweepScenario.ts';

let env: SweepTestEnv;
let demo: SweepConfig;

demoSweepSuite((s) => ({ env, demo } = s));

/** The artifact stage each activity commits (validateSweep commits nothing). */
const STAGE_OF_ACTIVITY: Record<string, string | undefined> = {
  validateSweep: undefined,
  registerSources: 'source',
  tokenize: 'tokenize',
  extract: 'extract',
  featureStats: 'sae',
  pairLayer: 'pair',
  scoreLayerPair: 'similarity',
  analyseSubspaces: 'subspace',
  renderFeatureMap: 'umap',
  writeResults: 'results',
  writeReport: 'report',
};

interface ActivityRecord {
  workflowId: string;
  activity: string;
  attempt: number;
  /** Artifact ids in the activity's input (what its own artifact would be derived from). */
  inputIds: Set<string>;
  failure?: { message: string; nonRetryable: boolean; type: string };
}

/** Every activity the sweep and its children ran, with attempts and failures, from their histories. */
async function activitiesOfSweep(client: Client, sweepId: string, config: SweepConfig): Promise<ActivityRecord[]> {
  const ids = [sweepId, prepWorkflowId(sweepId, 'a'), prepWorkflowId(sweepId, 'b')];
  for (const la of config.models.a.layers) for (const lb of config.models.b.layers) ids.push(pairWorkflowId(sweepId, la, lb));
  const out: ActivityRecord[] = [];
  for (const id of ids) {
    let events;
    try {
      events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    } catch {
      continue; // this child was never started
    }
    const byScheduled = new Map<string, ActivityRecord>();
    for (const e of events) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) {
        const args = (s.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p));
        byScheduled.set(String(e.eventId), { workflowId: id, activity: s.activityType?.name ?? '?', attempt: 0, inputIds: artifactIdsIn(args) });
      }
      const st = e.activityTaskStartedEventAttributes;
      if (st) byScheduled.get(String(st.scheduledEventId))!.attempt = st.attempt ?? 0;
      const f = e.activityTaskFailedEventAttributes;
      if (f) {
        const info = f.failure?.applicationFailureInfo;
        byScheduled.get(String(f.scheduledEventId))!.failure = { message: f.failure?.message ?? '', nonRetryable: info?.nonRetryable === true, type: info?.type ?? '' };
      }
    }
    out.push(...byScheduled.values());
  }
  return out;
}

function artifactIdsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string' && isArtifactId(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) artifactIdsIn(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) artifactIdsIn(v, out);
  return out;
}

/**
 * Runs the broken sweep and checks the contract; returns the activity that failed and the time
 * from start to failure.
 */
async function expectCleanFailure(name: string, change: (c: SweepConfig) => void, names: string, message: RegExp): Promise<{ activity: string; ms: number }> {
  const config = structuredClone(demo);
  config.outDir = join(env.dir, `out-${name}`);
  change(config);
  const t0 = Date.now();
  const { workflowId } = await startSweep(env.client, config);
  let failure: SweepFailedError | undefined;
  try {
    await waitForSweep(env.client, workflowId);
  } catch (e) {
    if (!(e instanceof SweepFailedError)) throw e;
    failure = e;
  }
  const ms = Date.now() - t0;
  assert.ok(failure, `${name}: the sweep failed`);
  assert.ok(failure.message.includes(names), `${name}: the message names ${names}: ${failure.message}`);
  assert.match(failure.message, message, name);
  assert.ok(!failure.message.includes('\n    at '), `${name}: no stack trace in the message`);

  const activities = await activitiesOfSweep(env.client, workflowId, config);
  const failed = activities.filter((a) => a.failure);
  assert.ok(failed.length >= 1, `${name}: an activity failed`);
  for (const a of activities) assert.ok(a.attempt <= 1, `${name}: ${a.workflowId} ${a.activity} ran attempt ${a.attempt}: retried`);
  for (const f of failed) {
    assert.equal(f.failure!.nonRetryable, true, `${name}: ${f.activity} failure is non-retryable`);
    assert.equal(f.failure!.type, 'UserInputError', `${name}: ${f.activity} failure type`);
  }
  // Nothing that looks complete for the failing stage: no committed artifact of that stage built
  // from the failing activity's inputs, no manifest in any staging folder, no results or report.
  const manifests = committedArtifacts(env.storeRoot).map((id) => readManifestJson<Manifest>(env.storeRoot, id));
  for (const f of failed) {
    const stage = STAGE_OF_ACTIVITY[f.activity];
    if (!stage) continue;
    for (const m of manifests) {
      const fromTheseInputs = m.inputs.length > 0 && m.inputs.every((i) => f.inputIds.has(i));
      assert.ok(!(m.stage === stage && fromTheseInputs), `${name}: ${m.id} (${stage}) was committed from the failing ${f.activity}'s inputs`);
    }
  }
  const staging = join(env.storeRoot, '.staging');
  if (existsSync(staging)) for (const d of readdirSync(staging)) assert.ok(!existsSync(join(staging, d, 'manifest.json')), `${name}: staging ${d} holds a manifest`);
  assert.ok(!existsSync(join(config.outDir, 'results.parquet')) && !existsSync(join(config.outDir, 'report.html')), `${name}: no results or report`);
  return { activity: failed[0]!.activity, ms };
}

const caught: string[] = [];
after(() => console.log(`bad inputs caught by: ${caught.join('; ')}`));

test('missing ONNX model file', async (t) => {
  const missing = join(env.dir, 'no-such-model.onnx');
  const r = await expectCleanFailure('missing-onnx', (c) => (c.models.a.model = missing), missing, /models\.a\.model: .*cannot read ONNX model \(ENOENT\)/);
  caught.push(`missing ONNX → ${r.activity} in ${r.ms} ms`);
  t.diagnostic(caught.at(-1)!);
});

test('corrupt ONNX model file (truncated download)', async (t) => {
  const corrupt = join(env.dir, 'truncated.onnx');
  const bytes = readFileSync(demo.models.b.model);
  writeFileSync(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const r = await expectCleanFailure('corrupt-onnx', (c) => (c.models.b.model = corrupt), corrupt, /models\.b\.model: .*not a valid ONNX model/);
  caught.push(`corrupt ONNX → ${r.activity} in ${r.ms} ms`);
  t.diagnostic(caught.at(-1)!);
});

test('a tap pattern that matches no tensor', async (t) => {
  const r = await expectCleanFailure('bad-pattern', (c) => (c.models.a.pattern = '/no/such/layer_{layer}/output'), demo.models.a.model, /models\.a\.layers\[0\]: .*pattern "\/no\/such\/layer_\{layer\}\/output" matches no tensor/);
  caught.push(`tap pattern → ${r.activity} in ${r.ms} ms`);
  t.diagnostic(caught.at(-1)!);
});

test('a layer out of range', async (t) => {
  const r = await expectCleanFailure('layer-range', (c) => (c.models.b.layers = [1, 9]), demo.models.b.model, /models\.b\.layers\[1\]: layer 9 out of range/);
  caught.push(`layer out of range → ${r.activity} in ${r.ms} ms`);
  t.diagnostic(caught.at(-1)!);
});

test("an SAE whose d_in is not the model's width", async (t) => {
  const r = await expectCleanFailure('sae-width', (c) => (c.models.a.sae = demo.models.b.sae), demo.models.b.sae as string, /SAE d_in=96 .* does not match the model's residual width 64/);
  caught.push(`SAE d_in ≠ width → ${r.activity} in ${r.ms} ms`);
  t.diagnostic(caught.at(-1)!);
});

test('a safetensors file whose header length runs past the end of the file', async (t) => {
  const dir = join(env.dir, 'overrun-sae');
  cpSync(demo.models.a.sae as string, dir, { recursive: true });
  const file = join(dir, 'layers.1', 'sae.safetensors');
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setBigUint64(0, BigInt(bytes.length + 1000), true); // header size beyond the file
  writeFileSync(file, bytes);
  const r = await expectCleanFailure('safetensors-overrun', (c) => (c.models.a.sae = dir), file, /safetensors header length \d+ runs past the end of the file/);
  caught.push(`safetensors header overrun → ${r.activity} in ${r.ms} ms`);
  t.diagnostic(caught.at(-1)!);
});

test('an empty corpus', async (t) => {
  const empty = join(env.dir, 'empty-corpus.txt');
  writeFileSync(empty, '\n\n');
  const r = await expectCleanFailure('empty-corpus', (c) => (c.corpus.path = empty), empty, /corpus\.path: .*no non-empty documents/);
  caught.push(`empty corpus → ${r.activity} in ${r.ms} ms`);
  t.diagnostic(caught.at(-1)!);
});
