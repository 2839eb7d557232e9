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
  /** Interface the frontend and UI bind to (default 127.0.0.1; 0.0.0.0 to serve workers on other machines). */
  ip?: string;
  /** No Web UI (tests). */
  headless?: boolean;
  /** The `temporal` binary; found with findTemporalBinary() when omitted. */
  binary?: string;
  /** Where the server's own output goes: a file path (default `<stateDir>/temporal.log`) or 'inherit'. */
  log?: string | 'inherit';
  /** How long to wait for the frontend to answer (default 60 s). */
  readyTimeoutMs?: number;
  /** Told when a server left running by a ufg process that died is stopped first. */
  onNotice?: (message: string) => void;
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
/** The dev server prints this once its services are up (not when binding a port failed). */
const BANNER = /Temporal Server:\s+\S+:(\d+)/;

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two servers on one SQLite file would corrupt it. The pid file records the server and the ufg
 * process that owns it. A live server whose owner is alive is refused; one whose owner died
 * (ufg was SIGKILLed: the server runs in its own process group and outlives it) is stopped, so
 * the next `ufg dev` simply takes the state over.
 */
async function claimStateDir(pidFile: string, dbFile: string, notice: (m: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const [pid, owner] = readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number);
  if (!pid || !Number.isInteger(pid) || !processAlive(pid)) return;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dbFile)) return; // pid reused by something else
  } catch {
    // No /proc (macOS): trust the pid file.
  }
  if (!owner || processAlive(owner)) {
    throw new UserInputError(`a Temporal dev server (pid ${pid}, run by pid ${owner}) is already running on ${dbFile}; stop that one or use another --state-dir`);
  }
  notice(`stopping the Temporal dev server (pid ${pid}) left running on ${dbFile} by a ufg process that exited`);
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; processAlive(pid); waited += 100) {
    if (waited === 10_000) process.kill(pid, 'SIGKILL');
    await sleep(100);
  }
}

async function waitForFrontend(address: string, isUp: () => boolean, isDead: () => boolean, deadline: number): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline && !isDead()) {
    if (!isUp()) {
      await sleep(50);
      continue;
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      if (!isDead()) return;
    } catch (e) {
      lastError = e;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(150);
  }
  if (isDead()) throw new Error('exited before it was ready');
  throw new Error(`did not answer within the deadline (${(lastError as Error | undefined)?.message ?? 'no banner printed'})`);
}

async function startOnce(opts: DevServerOptions, binary: string, port: number, uiPort: number): Promise<DevServer> {
  const stateDir = resolve(opts.stateDir);
  const dbFile = join(stateDir, 'temporal.db');
  const pidFile = join(stateDir, 'temporal.pid');
  const ip = opts.ip ?? HOST;
  const args = ['server', 'start-dev', '--db-filename', dbFile, '--ip', ip, '--port', String(port), '--ui-port', String(uiPort)];
  if (opts.headless) args.push('--headless');
  const logFile = opts.log === 'inherit' ? undefined : resolve(opts.log ?? join(stateDir, 'temporal.log'));
  const logStream = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  if (logStream) await new Promise<void>((r, j) => logStream.once('open', () => r()).once('error', j));

  // Own process group: a Ctrl-C in the terminal reaches ufg, which stops the worker first and the
  // server after it, instead of the server dying under a worker that is still finishing.
  const child: ChildProcess = spawn(binary, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined },
  });
  let output = '';
  let up = false;
  const onOutput = (to: NodeJS.WritableStream) => (d: Buffer) => {
    if (!up) {
      output = (output + d.toString()).slice(-20_000);
      // Our own banner for our port: another server answering on the port does not count.
      up = BANNER.exec(output)?.[1] === String(port);
    }
    to.write(d);
  };
  child.stdout!.on('data', onOutput(logStream ?? process.stdout));
  child.stderr!.on('data', onOutput(logStream ?? process.stderr));
  const spawnError = new Promise<Error>((r) => child.once('error', r));
  let dead = false;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // If ufg itself exits without stopping the server (an uncaught error), the server goes too.
  const killOnExit = () => {
    if (!dead) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);
  void exited.then(() => {
    dead = true;
    logStream?.end();
    process.removeListener('exit', killOnExit);
    try {
      if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').split(/\s+/)[0] === String(child.pid)) rmSync(pidFile);
    } catch {
      // Best effort: a stale pid file is ignored on the next start (process gone).
    }
  });

  const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
  if (failed || child.pid === undefined) {
    throw new UserInputError(`could not start the Temporal dev server ${binary}: ${failed?.message ?? 'no pid'}`);
  }
  writeFileSync(pidFile, `${child.pid} ${process.pid}\n`);
  // This process reaches the server on loopback whatever interface it binds.
  const connectHost = ip === '0.0.0.0' || ip === '::' ? HOST : ip.includes(':') ? `[${ip}]` : ip;
  const address = `${connectHost}:${port}`;

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (dead) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const server: DevServer = {
    address,
    namespace: NAMESPACE,
    uiUrl: opts.headless ? undefined : `http://${connectHost}:${uiPort}`,
    pid: child.pid,
    dbFile,
    stop,
    kill9: () => {
      if (!dead) child.kill('SIGKILL');
    },
    exited,
  };
  try {
    await waitForFrontend(address, () => up, () => dead, Date.now() + (opts.readyTimeoutMs ?? 60_000));
  } catch (e) {
    await stop(2_000);
    const tail = output.trim().split('\n').slice(-15).join('\n');
    const err = new Error(`Temporal dev server (${binary}) on ${address} ${(e as Error).message}${tail ? `\n${tail}` : ''}`);
    (err as Error & { portInUse?: boolean }).portInUse = /address already in use/i.test(tail);
    throw err;
  }
  return server;
}

/**
 * Starts `temporal server start-dev --db-filename <stateDir>/temporal.db` and waits until it has
 * printed its banner and the frontend answers a describe of the `default` namespace.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true });
  await claimStateDir(join(stateDir, 'temporal.pid'), join(stateDir, 'temporal.db'), opts.onNotice ?? ((m) => console.error(`ufg: ${m}`)));
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
      if (inUse) throw new UserInputError(`port ${port} or ${uiPort} is already in use (another Temporal?); choose others with --port / --ui-port`);
      throw e;
    }
  }
}
