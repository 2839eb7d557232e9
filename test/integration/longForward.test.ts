// A model forward pass longer than three heartbeat timeouts completes on its first attempt: the
// forward runs in a compute thread (pipelines/kernels/session.ts), so the activity's thread keeps
// heartbeating. The test watches the heartbeats the server records and measures the largest gap.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.ts';
import { tokenizeActivity } from '../../activities/prepare.ts';
import { cachedSession, ort } from '../../pipelines/kernels/session.ts';
import { GraphBuilder } from '../../pipelines/kernels/onnxGraph.ts';
import { registerSource } from '../../storage/sources.ts';
import { LocalDirStore } from '../../storage/store.ts';
import { ensureFixtures } from '../fixtures/generate.ts';
import { buildSlowModel, SLOW_MATRIX } from '../fixtures/slowModel.ts';
import { startTestServer, tempDir } from './harness.ts';
import type { DevServer } from '../../cli/temporal/index.ts';

const HEARTBEAT_SECONDS = 1;
const tmp = tempDir('ufg-long-forward-');
let server: DevServer;

before(async () => {
  server = await startTestServer(join(tmp.dir, 'temporal'));
});
after(async () => {
  await server?.stop();
  tmp.cleanup();
});

/** Seconds one 2048² product takes here, measured through the same compute thread. */
async function secondsPerStep(): Promise<number> {
  const g = new GraphBuilder('step');
  g.input('M', 'float32', [SLOW_MATRIX, SLOW_MATRIX]);
  g.node('Tanh', [g.node('MatMul', ['M', 'M'])], ['Y']);
  g.output('Y', 'float32', [SLOW_MATRIX, SLOW_MATRIX]);
  const s = await cachedSession('test:slow-step', () => g.build());
  const m = new ort.Tensor('float32', new Float32Array(SLOW_MATRIX * SLOW_MATRIX).fill(0.001), [SLOW_MATRIX, SLOW_MATRIX]);
  await s.run({ M: m });
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) await s.run({ M: m });
  return (performance.now() - t0) / 3000;
}

test('a forward pass of more than three heartbeat timeouts completes on attempt 1, heartbeats arriving all along', async (t) => {
  const fx = await ensureFixtures();
  // Sized here so one forward takes ~6 heartbeat timeouts whatever this machine's speed.
  const steps = Math.max(4, Math.ceil((6 * HEARTBEAT_SECONDS) / (await secondsPerStep())));
  const modelPath = join(tmp.dir, 'slow.onnx');
  writeFileSync(modelPath, buildSlowModel({ vocabSize: 512, dModel: 16, steps }));
  const corpus = join(tmp.dir, 'corpus.txt');
  writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog\n');
  const store = new LocalDirStore(join(tmp.dir, 'store'));
  mkdirSync(store.root, { recursive: true });
  const corpusId = (await registerSource(store, corpus, { kind: 'corpus' })).id;
  const modelId = (await registerSource(store, modelPath, { kind: 'model' })).id;
  const tokenizerId = (await registerSource(store, fx.tokenizerJson, { kind: 'tokenizer' })).id;
  const corpusConfig = { path: corpus, textField: 'text', numSamples: 0, maxLength: 16, batchSize: 8, keepSpecialPositions: false };
  const tokens = await tokenizeActivity(store)({ corpusId, tokenizerId, tokenizerPath: fx.tokenizerJson, corpus: corpusConfig });
  // One document, one batch, one chunk: the activity is a single forward pass.
  const input = { modelId, modelPath, tokenizerId, tokenizerPath: fx.tokenizerJson, tokensId: tokens.id, layers: [1], preset: 'gpt-neox' as const, batchSize: 8, maxLength: 16, chunkTokens: 4096, keepSpecialPositions: false };

  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: server.namespace,
    taskQueue: 'long-forward',
    activities: createActivities({ store }),
    workflowBundle: await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows/extractProbe.ts', import.meta.url)), logger: new DefaultLogger('WARN') }),
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  try {
    const handle = await client.workflow.start('extractProbe', { taskQueue: 'long-forward', workflowId: 'long-forward', args: [input, HEARTBEAT_SECONDS] });
    const beats: number[] = [];
    let attempt = 0;
    let done = false;
    const result = handle.result().finally(() => (done = true));
    while (!done) {
      const a = (await handle.describe()).raw.pendingActivities?.[0];
      const at = a?.lastHeartbeatTime?.seconds;
      if (a && at !== undefined && at !== null) {
        const ms = Number(at) * 1000 + Math.round((a.lastHeartbeatTime!.nanos ?? 0) / 1e6);
        if (beats.at(-1) !== ms) beats.push(ms);
        attempt = Math.max(attempt, a.attempt ?? 0);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = await result;
    assert.equal(out.numTokens, tokens.numTokens);

    const history = await handle.fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    const completed = history.events!.find((e) => e.activityTaskCompletedEventAttributes);
    assert.equal(started.length, 1, 'one attempt');
    assert.equal(started[0]!.activityTaskStartedEventAttributes!.attempt, 1);
    assert.ok(!history.events!.some((e) => e.activityTaskTimedOutEventAttributes), 'no heartbeat timeout');
    const time = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null } | undefined) => Number(e!.eventTime!.seconds) * 1000 + Math.round((e!.eventTime!.nanos ?? 0) / 1e6);
    const seconds = (time(completed) - time(started[0])) / 1000;
    assert.ok(seconds > 3 * HEARTBEAT_SECONDS, `the forward took ${seconds.toFixed(1)} s, more than 3 heartbeat timeouts`);

    const gaps = beats.slice(1).map((b, i) => b - beats[i]!);
    const largest = Math.max(...gaps) / 1000;
    assert.ok(beats.length >= 3, `heartbeats recorded during the forward: ${beats.length}`);
    assert.ok(largest < HEARTBEAT_SECONDS, `largest gap between recorded heartbeats ${largest.toFixed(2)} s < the ${HEARTBEAT_SECONDS} s timeout`);
    t.diagnostic(`one forward of ${steps} × ${SLOW_MATRIX}² products took ${seconds.toFixed(1)} s; ${beats.length} heartbeats, largest gap ${largest.toFixed(2)} s; attempt ${attempt || 1}`);
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
  }
});
