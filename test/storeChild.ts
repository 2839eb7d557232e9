// Real separate Node processes for the store's concurrency tests: a second worker, a crash, a
// stalled machine. The child runs TypeScript given as text (with tsx), reports progress as lines
// on stdout, and can be killed or stopped/continued by signal.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the first stdout line matching `pattern` (rejects if the child exits first). */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<ChildResult>;
}

/** Module URLs for the child's `await import(...)`. */
export const modules = {
  store: new URL('../storage/store.ts', import.meta.url).href,
  produce: new URL('../storage/produce.ts', import.meta.url).href,
  errors: new URL('../pipelines/errors.ts', import.meta.url).href,
};

export function startChild(code: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  proc.stdout!.on('data', (d) => {
    stdout += d;
    for (const w of [...waiters]) {
      const hit = stdout.split('\n').find((l) => w.pattern.test(l));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  });
  proc.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<ChildResult>((resolve) => proc.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
  return {
    proc,
    pid: proc.pid!,
    done,
    line(pattern, timeoutMs = 20_000) {
      const hit = stdout.split('\n').find((l) => pattern.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child ${proc.pid}: no line ${pattern} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void done.then((r) => {
          clearTimeout(timer);
          reject(new Error(`child ${proc.pid} exited (${r.status ?? r.signal}) before printing ${pattern}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`));
        });
      });
    },
  };
}

/** The JSON a child printed on its last `result ` line. */
export function resultOf<T>(r: ChildResult): T {
  const line = r.stdout.split('\n').filter((l) => l.startsWith('result ')).at(-1);
  if (!line) throw new Error(`child printed no result (status ${r.status ?? r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return JSON.parse(line.slice('result '.length)) as T;
}
