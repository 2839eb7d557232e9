// Job functions for kernels.jobs.test.ts (loaded inside a compute thread).
import type { JobContext } from '../pipelines/kernels/computeThread.ts';
import { GraphBuilder } from '../pipelines/kernels/onnxGraph.ts';
import { cachedSession, IN_COMPUTE_THREAD, ort, WITH_ARENA } from '../pipelines/kernels/session.ts';
import { UserInputError } from '../pipelines/errors.ts';

function sumGraph(): Uint8Array {
  const g = new GraphBuilder('sum');
  g.input('X', 'float32', ['n']);
  g.node('ReduceSum', ['X'], ['S'], { keepdims: 0 });
  g.output('S', 'float32', []);
  return g.build();
}

export async function sumJob(args: { n: number; steps: number }, ctx: JobContext): Promise<{ inThread: boolean; sums: Float32Array }> {
  const s = await cachedSession('test:sum', sumGraph);
  const sums = new Float32Array(Math.min(args.steps, 16));
  for (let i = 1; i <= args.steps; i++) {
    const out = await s.run({ X: new ort.Tensor('float32', new Float32Array(args.n).fill(i), [args.n]) });
    if (i <= sums.length) sums[i - 1] = (out.S!.data as Float32Array)[0]!;
    ctx.progress({ step: i });
  }
  return { inThread: IN_COMPUTE_THREAD, sums };
}

export async function badInputJob(args: { file: string }): Promise<never> {
  throw new UserInputError('no such array', args.file);
}

/** The same reduction through a session with ONNX Runtime's memory arena and one without, in this thread. */
export async function arenaJob(args: { n: number }): Promise<{ inThread: boolean; plain: number; arena: number }> {
  const x = new ort.Tensor('float32', Float32Array.from({ length: args.n }, (_, i) => i % 7), [args.n]);
  const plain = await cachedSession('test:sum:plain', sumGraph);
  const arena = await cachedSession('test:sum:arena', sumGraph, WITH_ARENA);
  const s = async (session: typeof plain) => ((await session.run({ X: x })).S!.data as Float32Array)[0]!;
  return { inThread: IN_COMPUTE_THREAD, plain: await s(plain), arena: await s(arena) };
}
