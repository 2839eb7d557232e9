// The embedded Temporal: the Temporal CLI's dev server persisting to a SQLite file under the
// state dir, so workflows survive a restart of the server (or of `ufg dev`).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { UserInputError } from '../../pipelines/errors.ts';
import { findTemporalBinary } from './binary.ts';

export interface DevServerOptions {
  /** Directory holding `temporal.db` (the server's state), its log and pid file. Created if missing. */
  stateDir: string;
  /** Frontend gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. */
  uiPort?: number;
  /** No Web UI (tests). */
  headless?: boolean;
  /** The `temporal` binary; found with findTemporalBinary() when omitted. */
  binary?: string;
  /** Where the server's own output goes: a file path (default `<stateDir>/temporal.log`) or 'inherit'. */
  log?: string | 'inherit';
  /** How long to wait for the frontend to answer (default 60 s). */
  readyTimeoutMs?: number;
}

export interface DevServer {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  /** Web UI URL, or undefined when headless. */
  uiUrl?: string;
  pid: number;
  dbFile: string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now (crash simulation); the db file stays. */
  kill9(): void;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;
}

const HOST = '127.0.0.1';
const NAMESPACE = 'default';

/** A port the OS considers free right now (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Two servers writing one SQLite file would corrupt it; a live server recorded in the pid file
 * (and, on Linux, still running with this db file on its command line) is refused clearly.
 */
function refuseIfRunning(pidFile: string, dbFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  let sameDb = true;
  try {
    sameDb = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dbFile);
  } catch {
    // No /proc (macOS): trust the pid file.
  }
  if (sameDb) {
    throw new UserInputError(
      `a Temporal dev server (pid ${pid}) is already running on ${dbFile}; stop it (kill ${pid}) or use another --state-dir`,
    );
  }
}

function tail(file: string | undefined, lines = 15): string {
  if (!file || !existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n').trim();
}

async function waitForFrontend(address: string, child: ChildProcess, exited: Promise<void>, deadline: number): Promise<void> {
  let lastError: unknown;
  let dead = false;
  void exited.then(() => (dead = true));
  while (Date.now() < deadline && !dead) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      return;
    } catch (e) {
      lastError = e;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  if (dead) throw new Error(`exited with code ${child.exitCode ?? child.signalCode}`);
  throw new Error(`did not answer within the deadline (${(lastError as Error | undefined)?.message ?? 'no error'})`);
}

async function startOnce(opts: DevServerOptions, binary: string, port: number, uiPort: number): Promise<DevServer> {
  const stateDir = resolve(opts.stateDir);
  const dbFile = join(stateDir, 'temporal.db');
  const pidFile = join(stateDir, 'temporal.pid');
  const args = ['server', 'start-dev', '--db-filename', dbFile, '--ip', HOST, '--port', String(port), '--ui-port', String(uiPort)];
  if (opts.headless) args.push('--headless');
  const logFile = opts.log === 'inherit' ? undefined : resolve(opts.log ?? join(stateDir, 'temporal.log'));
  const logStream = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  if (logStream) await new Promise<void>((r, j) => logStream.once('open', () => r()).once('error', j));

  // Own process group: a Ctrl-C in the terminal reaches ufg, which stops the worker first and the
  // server after it, instead of the server dying under a worker that is still finishing.
  const child = spawn(binary, args, {
    detached: true,
    stdio: ['ignore', logStream ? 'pipe' : 'inherit', logStream ? 'pipe' : 'inherit'],
    env: { ...process.env, TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined },
  });
  if (logStream) {
    child.stdout?.pipe(logStream, { end: false });
    child.stderr?.pipe(logStream, { end: false });
  }
  const spawnError = new Promise<Error>((r) => child.once('error', r));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => {
    logStream?.end();
    process.removeListener('exit', killOnExit);
    try {
      if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(child.pid)) rmSync(pidFile);
    } catch {
      // Best effort: a stale pid file is ignored on the next start (process gone).
    }
  });
  // If ufg itself exits without stopping the server (an uncaught error), the server goes too.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);

  const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
  if (failed || child.pid === undefined) {
    throw new UserInputError(`could not start the Temporal dev server ${binary}: ${failed?.message ?? 'no pid'}`);
  }
  writeFileSync(pidFile, `${child.pid}\n`);
  const address = `${HOST}:${port}`;

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const server: DevServer = {
    address,
    namespace: NAMESPACE,
    uiUrl: opts.headless ? undefined : `http://${HOST}:${uiPort}`,
    pid: child.pid,
    dbFile,
    stop,
    kill9: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    exited,
  };
  try {
    await waitForFrontend(address, child, exited, Date.now() + (opts.readyTimeoutMs ?? 60_000));
  } catch (e) {
    await stop(2_000);
    await new Promise((r) => setImmediate(r));
    const log = tail(logFile);
    const err = new Error(`Temporal dev server (${binary}) on ${address} ${(e as Error).message}${log ? `\n${log}` : ''}`);
    (err as Error & { portInUse?: boolean }).portInUse = /address already in use/i.test(log);
    throw err;
  }
  return server;
}

/**
 * Starts `temporal server start-dev --db-filename <stateDir>/temporal.db` and waits until the
 * frontend answers a describe of the `default` namespace.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true });
  refuseIfRunning(join(stateDir, 'temporal.pid'), join(stateDir, 'temporal.db'));
  const binary = opts.binary ?? findTemporalBinary();
  // Ports picked here can be taken by someone else before the server binds them; pick again then.
  const attempts = opts.port === undefined || opts.uiPort === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const uiPort = opts.uiPort ?? (await freePort());
    try {
      return await startOnce(opts, binary, port, uiPort);
    } catch (e) {
      const inUse = (e as { portInUse?: boolean }).portInUse === true;
      if (inUse && attempt < attempts) continue;
      if (inUse) throw new UserInputError(`port ${port} or ${uiPort} is already in use; choose another with --port`);
      throw e;
    }
  }
}
