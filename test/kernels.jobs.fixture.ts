// Job functions for kernels.jobs.test.ts (loaded inside a compute thread).
import type { JobContext } from '../pipelines/kernels/computeThread.ts';
import { GraphBuilder } from '../pipelines/kernels/onnxGraph.ts';
import { cachedSession, IN_COMPUTE_THREAD, ort } from '../pipelines/kernels/session.ts';
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
