// One place that creates and runs ONNX Runtime sessions: cached per graph key (a "shape class"),
// with the thread count and execution provider chosen once for the whole process.
//
// Why sessions live in compute threads: onnxruntime-node's `session.run` executes synchronously
// on the calling thread (its backend only defers the start with setImmediate), so a long model
// forward or pairing block would hold the event loop — no heartbeats, no Temporal polling, no
// cancellation — for its whole duration. Every session is therefore owned by one of a small pool
// of worker threads (computeThread.ts). From the activity's thread, `run` sends the feeds there
// (copied once, results moved back without copying) and awaits the reply; heavy stages instead
// run whole inside a compute thread as a job (`runComputeJob`), where `cachedSession` gives local
// sessions and nothing is copied between kernel calls. Pool size × ONNX Runtime intra-op threads
// = the cores (UFG_COMPUTE_THREADS, UFG_THREADS).
//
// Cancellation: code that runs under `withAbortSignal(signal, …)` (every activity, every job) sees
// each `run` reject with the signal's reason once it is aborted, so every ONNX call is a
// cancellation point without threading a signal through each loop.
import { AsyncLocalStorage } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { UserInputError } from '../errors.ts';
import { fromWire, toWire, type Reply, type Request, type WireError } from './wire.ts';

export type Device = 'cpu' | 'cuda';

interface ComputeThreadData {
  ufgComputeThread: true;
  options: ort.InferenceSession.SessionOptions;
}

const threadData = !isMainThread && (workerData as Partial<ComputeThreadData> | null)?.ufgComputeThread ? (workerData as ComputeThreadData) : undefined;
/** True inside a compute thread: sessions here are local. */
export const IN_COMPUTE_THREAD = threadData !== undefined;

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

/**
 * How one session is created, beside the process-wide thread layout and device. `arena`: keep
 * ONNX Runtime's CPU memory arena, for a graph run many times whose intermediates are large:
 * without it such buffers are mapped afresh on every run and page-faulted through. Measured here
 * (alternating processes): one layer's SAE statistics and fit, 7 chunks of 4800 tokens × 32k
 * features, 32–41 s and 0.4M page faults with it against 49–51 s and 8.7M without; SVCCA's and
 * Procrustes' 300-permutation nulls at n = 2426 ~10 % faster. Off by default: a session keeps its
 * largest run's buffers for as long as it lives (+0.6 GiB RSS for the statistics), and for the
 * pairing's block graphs it bought no time in a 32k × 32k run but 0.7 GiB of RSS; RSA's blocks
 * and CKA's Grams were slower with it.
 */
export interface SessionKind {
  arena?: boolean;
}

/** For the graphs SessionKind's `arena` is meant for: large intermediates, many runs. */
export const WITH_ARENA: SessionKind = { arena: true };

export function sessionOptions(kind: SessionKind = {}): ort.InferenceSession.SessionOptions {
  const base = threadData?.options ?? {
    executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  return { ...base, enableCpuMemArena: kind.arena ?? false };
}

const abortScope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the cancellation of every session run it makes. */
export function withAbortSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return abortScope.run(signal, fn);
}

/** The abort signal in effect (the activity's or the job's), if any. */
export function currentAbortSignal(): AbortSignal | undefined {
  return abortScope.getStore();
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

const localCache = new Map<string, Promise<ComputeSession>>();
/** This thread's sessions created with the arena, which releaseArenaSessions frees. */
const arenaSessions = new Map<string, Promise<ort.InferenceSession>>();

/** A session owned by this thread (inside a compute thread, or the baseline of a benchmark). */
export function localSession(key: string, build: () => Uint8Array, kind: SessionKind = {}): Promise<ComputeSession> {
  let s = localCache.get(key);
  if (!s) {
    const created = ort.InferenceSession.create(build(), sessionOptions(kind)).catch((e: unknown) => {
      throw cudaHint(e);
    });
    if (kind.arena) arenaSessions.set(key, created);
    s = created.then((session) => ({
      run(feeds, fetches) {
        throwIfAborted();
        return (fetches ? session.run(feeds, fetches as ort.InferenceSession.FetchesType) : session.run(feeds)) as Promise<Record<string, ort.Tensor>>;
      },
    }));
    localCache.set(key, s);
    s.catch(() => {
      localCache.delete(key);
      arenaSessions.delete(key);
    });
  }
  return s;
}

/** Frees this thread's sessions that hold a memory arena (the next use creates them again). */
export async function releaseLocalArenaSessions(): Promise<void> {
  const held = [...arenaSessions];
  arenaSessions.clear();
  for (const [key, created] of held) {
    localCache.delete(key);
    await created.then((session) => session.release()).catch(() => {});
  }
}

/** Keys of sessions this thread created in a compute thread with the arena (see releaseArenaSessions). */
const remoteArenaKeys = new Set<string>();

/**
 * Frees every session that holds a memory arena, here and in the compute threads: called when a
 * stage that used them ends, so their buffers (~1 GiB for the SAE statistics' graphs at 32k
 * features) do not stay resident under the stages after it. Queued, not awaited: a compute
 * thread busy with another layer pair's pairing job frees them after it, and the stage need not
 * wait for that. A stage still running recreates what it needs on its next call: the model
 * travels again because `created` forgets the key before the release is queued, and a compute
 * thread serves requests in order. A failed release only leaves the memory held.
 */
export function releaseArenaSessions(): void {
  if (IN_COMPUTE_THREAD) {
    void releaseLocalArenaSessions();
    return;
  }
  for (const t of pool) for (const key of remoteArenaKeys) t.created.delete(key);
  remoteArenaKeys.clear();
  for (const t of pool) t.request({ op: 'releaseArenas' }, []).reply.catch(() => {});
}

/** A CUDA provider that cannot load is the installation's problem: say how to fix it. */
function cudaHint(e: unknown): unknown {
  const msg = e instanceof Error ? e.message : String(e);
  if (device !== 'cuda' || !/cuda/i.test(msg)) return e;
  return new UserInputError(
    `--device cuda: ONNX Runtime could not start its CUDA execution provider (${msg.split('\n')[0]}); install it with \`bash scripts/install-cuda.sh\`, then \`source .cuda/env.sh\` before starting the worker (an NVIDIA driver must provide libcuda.so.1)`,
  );
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function errorFrom(w: WireError): Error {
  // The message already names the file, so the constructor adds nothing.
  if (w.name === 'UserInputError') return new UserInputError(w.message, w.file);
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

class ComputeThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { done: (r: Extract<Reply, { kind: 'done' }>) => void; fail: (e: Error) => void; progress?: (p: unknown) => void }>();
  /** Keys whose session the thread has (or is creating): their model bytes need not travel again. */
  readonly created = new Set<string>();

  constructor() {
    const data: ComputeThreadData = { ufgComputeThread: true, options: sessionOptions() };
    this.worker = new Worker(new URL('./computeThreadBoot.mjs', import.meta.url), { workerData: data });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      if (reply.kind === 'progress') {
        p.progress?.(reply.progress);
        return;
      }
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      p.done(reply);
    });
    const failAll = (e: Error) => {
      for (const p of this.pending.values()) p.fail(e);
      this.pending.clear();
    };
    this.worker.on('error', (e) => failAll(e instanceof Error ? e : new Error(String(e))));
    this.worker.on('exit', (code) => failAll(new Error(`compute thread exited (code ${code})`)));
  }

  get load(): number {
    return this.pending.size;
  }

  request(req: DistributiveOmit<Request, 'id'>, transfer: ArrayBuffer[], progress?: (p: unknown) => void): { id: number; reply: Promise<Extract<Reply, { kind: 'done' }>> } {
    const id = this.nextId++;
    const reply = new Promise<Extract<Reply, { kind: 'done' }>>((done, fail) => {
      this.pending.set(id, { done, fail, ...(progress ? { progress } : {}) });
      // Held while a reply is due, so the process does not exit under an awaited run.
      this.worker.ref();
      this.worker.postMessage({ ...req, id }, transfer);
    });
    return { id, reply };
  }

  abort(id: number): void {
    this.worker.postMessage({ op: 'abort', id } satisfies Request);
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

let pool: ComputeThread[] = [];

function ensurePool(): ComputeThread[] {
  if (pool.length !== poolSize) pool = Array.from({ length: poolSize }, () => new ComputeThread());
  return pool;
}

/** The thread that owns `key`'s session (stable, so a session is built once per process). */
function threadFor(key: string): ComputeThread {
  const threads = ensurePool();
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) >>> 0;
  return threads[h % threads.length]!;
}

/** Stops the compute threads (their sessions go with them); the next run starts new ones. */
export async function shutdownPool(): Promise<void> {
  const old = pool;
  pool = [];
  await Promise.all(old.map((t) => t.terminate()));
}

function remoteSession(key: string, build: () => Uint8Array, kind: SessionKind): ComputeSession {
  return {
    async run(feeds, fetches) {
      throwIfAborted();
      const thread = threadFor(key);
      const transfer: ArrayBuffer[] = [];
      const wireFeeds = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, toWire(t, transfer)]));
      const preallocated = fetches && !Array.isArray(fetches) ? (fetches as Record<string, ort.Tensor | null>) : undefined;
      const names = fetches ? (Array.isArray(fetches) ? [...fetches] : Object.keys(fetches)) : undefined;
      const first = !thread.created.has(key);
      // Copied, not transferred: a model read from disk may sit in a buffer the caller still owns.
      const model = first ? build() : undefined;
      thread.created.add(key);
      if (first && kind.arena) remoteArenaKeys.add(key);
      let reply: Extract<Reply, { kind: 'done' }>;
      try {
        reply = await thread.request({ op: 'run', key, ...(model ? { model, arena: kind.arena ?? false } : {}), feeds: wireFeeds, ...(names ? { fetches: names } : {}) }, transfer).reply;
      } catch (e) {
        if (first) thread.created.delete(key);
        throw e;
      }
      if (reply.error) {
        if (first) thread.created.delete(key);
        throw errorFrom(reply.error);
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

const remoteCache = new Map<string, ComputeSession>();

/** The session for `key`, building the model with `build` (created as `kind` says) the first time the key is seen. */
export function cachedSession(key: string, build: () => Uint8Array, kind: SessionKind = {}): Promise<ComputeSession> {
  if (IN_COMPUTE_THREAD) return localSession(key, build, kind);
  let s = remoteCache.get(key);
  if (!s) {
    s = remoteSession(key, build, kind);
    remoteCache.set(key, s);
  }
  return Promise.resolve(s);
}

export interface JobOptions {
  /** Progress reports of the job, in order. */
  onProgress?: (p: unknown) => void;
}

/**
 * Runs export `fn` of `module` (a file URL) in a compute thread, where its kernel calls are local,
 * and resolves with its result (typed arrays in it move without a copy). The current abort signal
 * (the activity's) aborts the job; the promise settles only once the job has stopped. Inside a
 * compute thread the function simply runs here.
 */
export async function runComputeJob<A, R>(module: URL, fn: string, args: A, opts: JobOptions = {}): Promise<R> {
  throwIfAborted();
  if (IN_COMPUTE_THREAD) {
    const mod = (await import(module.href)) as Record<string, (a: A, ctx: { progress(p: unknown): void }) => Promise<R>>;
    return mod[fn]!(args, { progress: (p) => opts.onProgress?.(p) });
  }
  const threads = ensurePool();
  const thread = threads.reduce((best, t) => (t.load < best.load ? t : best), threads[0]!);
  // Arguments are copied (structured clone), never moved: the caller may still use them.
  const { id, reply } = thread.request({ op: 'job', module: module.href, fn, args }, [], opts.onProgress);
  const signal = currentAbortSignal();
  const onAbort = () => thread.abort(id);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await reply;
    if (r.error) throw signal?.aborted ? (signal.reason ?? errorFrom(r.error)) : errorFrom(r.error);
    return r.result as R;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

export { ort };
