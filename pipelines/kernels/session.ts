// One place that creates ONNX Runtime sessions: cached per graph key (a "shape class"), with the
// thread count and execution provider chosen once for the whole process.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';

export type Device = 'cpu' | 'cuda';

let device: Device = process.env.UFG_DEVICE === 'cuda' ? 'cuda' : 'cpu';
let intraOpThreads = Number(process.env.UFG_THREADS ?? 0) || availableParallelism();

const cache = new Map<string, Promise<ort.InferenceSession>>();

/** Select the execution provider for sessions created from now on (`--device`). */
export function configureKernels(opts: { device?: Device; threads?: number }): void {
  if (opts.device && opts.device !== device) {
    device = opts.device;
    cache.clear();
  }
  if (opts.threads && opts.threads !== intraOpThreads) {
    intraOpThreads = opts.threads;
    cache.clear();
  }
}

export function currentDevice(): Device {
  return device;
}

export function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
}

/** The session for `key`, building the model with `build` the first time the key is seen. */
export function cachedSession(key: string, build: () => Uint8Array): Promise<ort.InferenceSession> {
  let s = cache.get(key);
  if (!s) {
    s = ort.InferenceSession.create(build(), sessionOptions());
    cache.set(key, s);
    s.catch(() => cache.delete(key));
  }
  return s;
}

export { ort };
