// A compute thread: owns ONNX Runtime sessions and runs them, so the synchronous work of
// onnxruntime-node's `session.run` never holds the event loop of the thread that heartbeats and
// polls Temporal (see session.ts). Requests are served one at a time in order:
//  - `run`: one session call (feeds in, outputs back);
//  - `job`: a whole pipeline function (module + export name) that runs here with local sessions
//    and no copies between its kernel calls, reporting progress and stopping on `abort`;
//  - `releaseArenas`: free the sessions holding a memory arena (session.ts releaseArenaSessions).
import { parentPort } from 'node:worker_threads';
import { isUserInputError } from '../errors.ts';
import { localSession, releaseLocalArenaSessions, withAbortSignal } from './session.ts';
import { fromWire, toWireOwned, transferablesOf, type Reply, type Request, type WireError } from './wire.ts';

const port = parentPort!;
const aborts = new Map<number, AbortController>();
/** Jobs aborted while still queued: they stop before they start. */
const abortedEarly = new Set<number>();

/** What a job function receives besides its arguments. */
export interface JobContext {
  progress(p: unknown): void;
}

export type JobFunction = (args: never, ctx: JobContext) => Promise<unknown>;

function wireError(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  const file = isUserInputError(err) ? (err as Error & { file?: string }).file : undefined;
  return { message: err.message, name: err.name, ...(file !== undefined ? { file } : {}) };
}

async function serve(req: Exclude<Request, { op: 'abort' }>): Promise<void> {
  if (req.op === 'releaseArenas') {
    await releaseLocalArenaSessions();
    port.postMessage({ id: req.id, kind: 'done' } satisfies Reply);
    return;
  }
  if (req.op === 'run') {
    const session = await localSession(req.key, () => {
      if (!req.model) throw new Error(`compute thread: no session ${req.key} and no model to create it`);
      return req.model;
    }, { arena: req.arena ?? false });
    const feeds = Object.fromEntries(Object.entries(req.feeds).map(([name, w]) => [name, fromWire(w)]));
    const out = await session.run(feeds, req.fetches);
    const transfer: ArrayBuffer[] = [];
    const outputs = Object.fromEntries(Object.entries(out).map(([name, t]) => [name, toWireOwned(t, transfer)]));
    port.postMessage({ id: req.id, kind: 'done', outputs } satisfies Reply, transfer);
    return;
  }
  const controller = new AbortController();
  aborts.set(req.id, controller);
  if (abortedEarly.delete(req.id)) controller.abort(new Error('compute job aborted'));
  try {
    const mod = (await import(req.module)) as Record<string, JobFunction>;
    const fn = mod[req.fn];
    if (typeof fn !== 'function') throw new Error(`compute job: ${req.module} has no function ${req.fn}`);
    const ctx: JobContext = { progress: (progress) => port.postMessage({ id: req.id, kind: 'progress', progress } satisfies Reply) };
    const result = await withAbortSignal(controller.signal, () => fn(req.args as never, ctx));
    port.postMessage({ id: req.id, kind: 'done', result } satisfies Reply, transferablesOf(result));
  } finally {
    aborts.delete(req.id);
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (req: Request) => {
  // An abort must reach a running job at once, not wait in the queue behind it.
  if (req.op === 'abort') {
    const running = aborts.get(req.id);
    if (running) running.abort(new Error('compute job aborted'));
    else abortedEarly.add(req.id);
    return;
  }
  queue = queue.then(() => serve(req).catch((e: unknown) => port.postMessage({ id: req.id, kind: 'done', error: wireError(e) } satisfies Reply)));
});
