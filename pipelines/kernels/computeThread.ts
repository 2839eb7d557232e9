// A compute thread: owns ONNX Runtime sessions and runs them, so the synchronous work of
// onnxruntime-node's `session.run` never holds the event loop of the thread that heartbeats and
// polls Temporal (see session.ts). One request at a time, in order; sessions cached by key.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { fromWire, toWireOwned, type Reply, type Request } from './wire.ts';

const port = parentPort!;
const sessions = new Map<string, Promise<ort.InferenceSession>>();

async function handle(req: Request): Promise<{ reply: Reply; transfer: ArrayBuffer[] }> {
  if (req.op === 'release') {
    const s = sessions.get(req.key);
    sessions.delete(req.key);
    if (s) await (await s).release();
    return { reply: { id: req.id }, transfer: [] };
  }
  let s = sessions.get(req.key);
  if (!s) {
    if (!req.model) throw new Error(`compute thread: no session ${req.key} and no model to create it`);
    s = ort.InferenceSession.create(req.model, req.options);
    sessions.set(req.key, s);
    s.catch(() => sessions.delete(req.key));
  }
  const session = await s;
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, w] of Object.entries(req.feeds)) feeds[name] = fromWire(w);
  const out = req.fetches ? await session.run(feeds, req.fetches) : await session.run(feeds);
  const transfer: ArrayBuffer[] = [];
  const outputs: NonNullable<Reply['outputs']> = {};
  for (const [name, t] of Object.entries(out)) outputs[name] = toWireOwned(t, transfer);
  return { reply: { id: req.id, outputs }, transfer };
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (req: Request) => {
  queue = queue.then(async () => {
    try {
      const { reply, transfer } = await handle(req);
      port.postMessage(reply, transfer);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ id: req.id, error: { message: err.message, name: err.name } } satisfies Reply);
    }
  });
});
