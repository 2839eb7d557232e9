// One place that creates and runs ONNX Runtime sessions: cached per graph key (a "shape class"),
// with the thread count and execution provider chosen once for the whole process.
//
// Why sessions live in compute threads: onnxruntime-node's `session.run` executes synchronously
// on the calling thread (its backend only defers the start with setImmediate), so a long model
// forward or pairing block would hold the event loop — no heartbeats, no Temporal polling, no
// cancellation — for its whole duration. Every session is therefore owned by one of a small pool
// of worker threads (computeThread.ts); `run` sends the feeds there (copied once, results moved
// back without copying) and awaits the reply, leaving this thread free. Pool size × ONNX Runtime
// intra-op threads = the cores (UFG_COMPUTE_THREADS, UFG_THREADS).
//
// Cancellation: code that runs under `withAbortSignal(signal, …)` (every activity does) sees
// each `run` reject with the signal's reason once the signal is aborted, so every ONNX call is a
// cancellation point without threading a signal through each loop.
import { AsyncLocalStorage } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { fromWire, toWire, type Reply, type Request } from './wire.ts';

export type Device = 'cpu' | 'cuda';

const cores = availableParallelism();
let device: Device = process.env.UFG_DEVICE === 'cuda' ? 'cuda' : 'cpu';
let poolSize = Math.max(1, Math.min(cores, Number(process.env.UFG_COMPUTE_THREADS ?? 0) || 1));
let intraOpThreads = Number(process.env.UFG_THREADS ?? 0) || Math.max(1, Math.floor(cores / poolSize));

/** Select the execution provider / thread layout for sessions created from now on. */
export function configureKernels(opts: { device?: Device; threads?: number; computeThreads?: number }): void {
  const changed =
    (opts.device !== undefined && opts.device !== device) ||
    (opts.threads !== undefined && opts.threads !== intraOpThreads) ||
    (opts.computeThreads !== undefined && opts.computeThreads !== poolSize);
  if (!changed) return;
  if (opts.device) device = opts.device;
  if (opts.computeThreads) {
    poolSize = Math.max(1, opts.computeThreads);
    if (!opts.threads) intraOpThreads = Math.max(1, Math.floor(cores / poolSize));
  }
  if (opts.threads) intraOpThreads = opts.threads;
  void shutdownPool();
}

export function currentDevice(): Device {
  return device;
}

export function kernelLayout(): { device: Device; computeThreads: number; intraOpThreads: number } {
  return { device, computeThreads: poolSize, intraOpThreads };
}

export function sessionOptions(): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
}

const abortScope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the cancellation of every session run it makes. */
export function withAbortSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return abortScope.run(signal, fn);
}

/** Throws the reason of the current abort signal, if it was aborted. */
export function throwIfAborted(): void {
  const signal = abortScope.getStore();
  if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
}

/** Outputs to fetch: names, or named pre-allocated tensors (null = let ONNX Runtime allocate). */
export type Fetches = readonly string[] | Record<string, ort.Tensor | null>;

export interface ComputeSession {
  run(feeds: Record<string, ort.Tensor>, fetches?: Fetches): Promise<Record<string, ort.Tensor>>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

class ComputeThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** Keys whose session the thread has (or is creating): their model bytes need not travel again. */
  readonly created = new Set<string>();

  constructor() {
    this.worker = new Worker(new URL('./computeThreadBoot.mjs', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      p.resolve(reply);
    });
    const failAll = (e: Error) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', (e) => failAll(e instanceof Error ? e : new Error(String(e))));
    this.worker.on('exit', (code) => failAll(new Error(`compute thread exited (code ${code})`)));
  }

  request(req: DistributiveOmit<Request, 'id'>, transfer: ArrayBuffer[]): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held while a reply is due, so the process does not exit under an awaited run.
      this.worker.ref();
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

let pool: ComputeThread[] = [];

function threadFor(key: string): ComputeThread {
  if (pool.length !== poolSize) pool = Array.from({ length: poolSize }, () => new ComputeThread());
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) >>> 0;
  return pool[h % pool.length]!;
}

/** Stops the compute threads (their sessions go with them); the next run starts new ones. */
export async function shutdownPool(): Promise<void> {
  const old = pool;
  pool = [];
  await Promise.all(old.map((t) => t.terminate()));
}

function remoteSession(key: string, build: () => Uint8Array): ComputeSession {
  return {
    async run(feeds, fetches) {
      throwIfAborted();
      const thread = threadFor(key);
      const transfer: ArrayBuffer[] = [];
      const wireFeeds: Extract<Request, { op: 'run' }>['feeds'] = {};
      for (const [name, t] of Object.entries(feeds)) wireFeeds[name] = toWire(t, transfer);
      const preallocated = fetches && !Array.isArray(fetches) ? (fetches as Record<string, ort.Tensor | null>) : undefined;
      const names = fetches ? (Array.isArray(fetches) ? [...fetches] : Object.keys(fetches)) : undefined;
      const first = !thread.created.has(key);
      // Copied, not transferred: a model read from disk may sit in a buffer the caller still owns.
      const model = first ? build() : undefined;
      thread.created.add(key);
      let reply: Reply;
      try {
        reply = await thread.request({ op: 'run', key, ...(model ? { model } : {}), options: sessionOptions(), feeds: wireFeeds, ...(names ? { fetches: names } : {}) }, transfer);
      } catch (e) {
        if (first) thread.created.delete(key);
        throw e;
      }
      if (reply.error) {
        if (first) thread.created.delete(key);
        throw new Error(reply.error.message);
      }
      const out: Record<string, ort.Tensor> = {};
      for (const [name, w] of Object.entries(reply.outputs ?? {})) {
        const into = preallocated?.[name];
        if (into) {
          (into.data as Float32Array).set(w.data as Float32Array);
          out[name] = into;
        } else out[name] = fromWire(w);
      }
      return out;
    },
  };
}

const cache = new Map<string, ComputeSession>();

/** The session for `key`, building the model with `build` the first time the key is seen. */
export async function cachedSession(key: string, build: () => Uint8Array): Promise<ComputeSession> {
  let s = cache.get(key);
  if (!s) {
    s = remoteSession(key, build);
    cache.set(key, s);
  }
  return s;
}

export { ort };
