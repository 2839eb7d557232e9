// Shared pieces of the integration tests: a real Temporal dev server in a temp state dir, real
// `ufg worker` child processes that can be SIGKILLed, and waiting for conditions with a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { startDevServer, type DevServer } from '../../cli/temporal/devServer.ts';
import { connectClient, type ConnectedClient } from '../../cli/temporal/index.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const UFG_BIN = join(REPO_ROOT, 'bin', 'ufg.mjs');

/** A fresh temp dir; removed by the returned cleanup. */
export function tempDir(prefix = 'ufg-it-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A headless dev server persisting to `<stateDir>/temporal.db`. */
export function startTestServer(stateDir: string): Promise<DevServer> {
  return startDevServer({ stateDir, headless: true });
}

/**
 * Stops (SIGTERM, or SIGKILL with `crash`) and starts a server again on the same db file and the
 * same port, so clients and workers that hold the address reconnect to it.
 */
export async function restartServer(server: DevServer, stateDir: string, opts: { crash?: boolean; downMs?: number } = {}): Promise<DevServer> {
  const port = Number(server.address.split(':').pop());
  if (opts.crash) {
    server.kill9();
    await server.exited;
  } else {
    await server.stop();
  }
  if (opts.downMs) await sleep(opts.downMs);
  return startDevServer({ stateDir, headless: true, port });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`
 * naming what it waited for (and the last error `check` threw, if any).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 60_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export interface UfgProcess {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>;
  kill9(): void;
  /** SIGINT/SIGTERM and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** `node bin/ufg.mjs <args>` as a child process with the given extra environment. */
export function spawnUfg(args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO_ROOT): UfgProcess {
  const child = spawn(process.execPath, [UFG_BIN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
  // A test that fails half-way must not leave workers behind.
  const reap = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', reap);
  void exited.then(() => process.removeListener('exit', reap));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    kill9: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stop: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A `ufg worker` process against `address`, writing artifacts to `storeRoot`. */
export function spawnWorker(address: string, storeRoot: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): UfgProcess {
  return spawnUfg(['worker', '--store', storeRoot, ...extraArgs], { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default', ...env });
}

/** True while a process with this pid exists (and is not a zombie we own). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What a test file against real `ufg worker` processes shares: a dev server, a client, its workers. */
export interface ServerSuite {
  dir: string;
  /** The dev server's state dir; a test that restarts the server replaces `server`. */
  stateDir: string;
  server: DevServer;
  conn: ConnectedClient;
  /** A `ufg worker` child process on `storeRoot` (with extra environment), once it polls; stopped after the file. */
  startWorker(storeRoot: string, env?: NodeJS.ProcessEnv): Promise<UfgProcess>;
}

/**
 * Registers the file's before/after hooks for a ServerSuite in a fresh temp dir; `setup` runs in the
 * same before hook once the server and client are up.
 */
export function serverSuite<S extends ServerSuite = ServerSuite>(prefix: string, setup?: (suite: S) => Promise<void>): S {
  const tmp = tempDir(prefix);
  const workers: UfgProcess[] = [];
  const suite = { dir: tmp.dir, stateDir: join(tmp.dir, 'temporal') } as S;
  suite.startWorker = async (storeRoot, env = {}) => {
    const w = spawnWorker(suite.server.address, storeRoot, [], env);
    workers.push(w);
    await waitFor('the worker to poll', () => /ufg worker: serving/.test(w.output()), { timeoutMs: 180_000 });
    return w;
  };
  before(async () => {
    suite.server = await startTestServer(suite.stateDir);
    suite.conn = await connectClient({ address: suite.server.address, namespace: suite.server.namespace });
    await setup?.(suite);
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await suite.conn?.connection.close();
    await suite.server?.stop();
    tmp.cleanup();
  });
  return suite;
}
