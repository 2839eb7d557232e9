// Each feature's k highest activations and their token positions, streamed over token chunks
// and feature blocks (a running ONNX TopK per block), for labels (labels.ts: k = topKForLabels)
// when no pairing pass ran.
import { emptyTopK, mergeTopK } from '../kernels/correlationKernels.ts';
import type { ActivationSource } from './activationSource.ts';
import { DEFAULT_MEMORY_BUDGET, DEFAULT_TOKEN_CHUNK } from './blockPlan.ts';
import type { TopActivations } from './streamingCorrelation.ts';

export async function topActivations(
  src: ActivationSource,
  k: number,
  opts: { memoryBudgetBytes?: number; tokenChunk?: number } = {},
): Promise<TopActivations> {
  const T = src.numTokens, F = src.numFeatures;
  const kk = Math.min(k, T);
  const chunk = Math.max(1, Math.min(T, opts.tokenChunk ?? DEFAULT_TOKEN_CHUNK));
  // A chunk, its TopK temporaries and the running state, ~3 chunk-sized f32 buffers.
  const budget = opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET;
  const block = Math.max(1, Math.min(F, Math.floor(budget / (12 * chunk))));
  const out: TopActivations = { k: kk, values: new Float32Array(F * kk), positions: new Int32Array(F * kk) };
  for (let f0 = 0; f0 < F; f0 += block) {
    const f1 = Math.min(F, f0 + block), w = f1 - f0;
    let run = emptyTopK(kk, w);
    for (let t0 = 0; t0 < T; t0 += chunk) run = await mergeTopK(run, await src.read(t0, Math.min(T, t0 + chunk), f0, f1), t0);
    for (let r = 0; r < kk; r++)
      for (let f = 0; f < w; f++) {
        out.values[(f0 + f) * kk + r] = run.values[r * w + f]!;
        out.positions[(f0 + f) * kk + r] = Number(run.positions[r * w + f]!);
      }
  }
  return out;
}
