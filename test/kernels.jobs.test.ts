// Compute jobs: a pipeline function run whole inside a compute thread, with progress, results that
// move without a copy, bad input that stays a UserInputError, and abort that stops the job.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUserInputError } from '../pipelines/errors.ts';
import { cachedSession, ort, releaseArenaSessions, runComputeJob, sessionOptions, withAbortSignal, WITH_ARENA } from '../pipelines/kernels/session.ts';
import { GraphBuilder } from '../pipelines/kernels/onnxGraph.ts';

const JOBS = new URL('./kernels.jobs.fixture.ts', import.meta.url);

test('a job runs in a compute thread with local sessions, reports progress and returns typed arrays', async () => {
  const seen: unknown[] = [];
  const r = await runComputeJob<{ n: number; steps: number }, { inThread: boolean; sums: Float32Array }>(JOBS, 'sumJob', { n: 64, steps: 3 }, { onProgress: (p) => seen.push(p) });
  assert.equal(r.inThread, true);
  assert.ok(r.sums instanceof Float32Array);
  assert.deepEqual(Array.from(r.sums), [64, 128, 192]);
  assert.deepEqual(seen, [{ step: 1 }, { step: 2 }, { step: 3 }]);
});

test('a UserInputError inside a job arrives as a UserInputError naming its file', async () => {
  await assert.rejects(runComputeJob(JOBS, 'badInputJob', { file: '/data/x.npz' }), (e: unknown) => {
    assert.ok(isUserInputError(e), String(e));
    assert.equal((e as Error).message, '/data/x.npz: no such array');
    return true;
  });
});

test('aborting the caller stops a running job at its next kernel call; the rejection is the caller\'s reason', async () => {
  const controller = new AbortController();
  const reason = new Error('activity cancelled');
  const started = Date.now();
  const run = withAbortSignal(controller.signal, () => runComputeJob<{ n: number; steps: number }, unknown>(JOBS, 'sumJob', { n: 256, steps: 1_000_000 }, { onProgress: () => controller.abort(reason) }));
  await assert.rejects(run, (e: unknown) => e === reason);
  assert.ok(Date.now() - started < 10_000);
  // The thread is free again for the next request.
  const after = await runComputeJob<{ n: number; steps: number }, { sums: Float32Array }>(JOBS, 'sumJob', { n: 2, steps: 1 });
  assert.deepEqual(Array.from(after.sums), [2]);
  assert.ok(ort.Tensor);
});

test('the memory arena is per session, off unless asked for, and changes no result (in a job and from this thread)', async () => {
  assert.equal(sessionOptions().enableCpuMemArena, false);
  assert.equal(sessionOptions(WITH_ARENA).enableCpuMemArena, true);
  const inJob = await runComputeJob<{ n: number }, { inThread: boolean; plain: number; arena: number }>(JOBS, 'arenaJob', { n: 100_003 });
  assert.equal(inJob.inThread, true);
  // Σ (i mod 7) over 100 003 values: 14 286 full cycles of 21, then one 0.
  assert.equal(inJob.plain, 14_286 * 21);
  assert.equal(inJob.arena, inJob.plain);
  const model = reduction('ReduceMax');
  const remote = await cachedSession('test:max:arena', () => model, WITH_ARENA);
  const out = await remote.run({ X: new ort.Tensor('float32', Float32Array.of(3, 9, -1), [3]) });
  assert.equal((out.M!.data as Float32Array)[0], 9);
});

test('sessions with an arena, freed between and during uses, are created again with the same results', async () => {
  const model = reduction('ReduceMin');
  const session = await cachedSession('test:min:arena', () => model, WITH_ARENA);
  const min = async (xs: number[]) => ((await session.run({ X: new ort.Tensor('float32', Float32Array.from(xs), [xs.length]) })).M!.data as Float32Array)[0];
  assert.equal(await min([4, -2, 7]), -2);
  // A run already sent, a release, then a run that must send the model again.
  const inFlight = min([5, 6]);
  releaseArenaSessions();
  const after = min([9, 1, 3]);
  assert.deepEqual([await inFlight, await after], [5, 1]);
  const job = () => runComputeJob<{ n: number }, { plain: number; arena: number }>(JOBS, 'arenaJob', { n: 10 });
  const before = await job();
  releaseArenaSessions();
  assert.deepEqual(await job(), before);
  assert.equal(await min([0.5]), 0.5);
});

/** A graph reducing a vector X to the scalar M with `op`. */
function reduction(op: 'ReduceMax' | 'ReduceMin'): Uint8Array {
  const g = new GraphBuilder(op);
  g.input('X', 'float32', ['n']);
  g.node(op, ['X'], ['M'], { keepdims: 0 });
  g.output('M', 'float32', []);
  return g.build();
}
