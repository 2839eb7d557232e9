// Terminal progress for long sweeps: one redrawn bar line on a TTY; on a pipe or in a log file,
// plain lines at most every `plainEveryMs` (plus the last), so logs stay readable.
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressOptions {
  stream?: ProgressStream;
  now?: () => number;
  plainEveryMs?: number;
  width?: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** ETA from the average rate so far; undefined until something is done. */
export function estimateRemainingMs(done: number, total: number, elapsedMs: number): number | undefined {
  if (done <= 0 || total <= 0) return undefined;
  return (elapsedMs / done) * Math.max(0, total - done);
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private lastPlain = -Infinity;
  private done = 0;
  private closed = false;

  constructor(
    readonly stage: string,
    readonly total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? Date.now;
    this.started = this.now();
  }

  /** The line as it would be printed now (without bar on non-TTY streams). */
  line(): string {
    const elapsed = this.now() - this.started;
    const eta = estimateRemainingMs(this.done, this.total, elapsed);
    const pct = this.total > 0 ? Math.min(100, (100 * this.done) / this.total) : 100;
    const counts = `${this.done}/${this.total} (${pct.toFixed(0)}%)`;
    const timing = this.done >= this.total ? `done in ${formatDuration(elapsed)}` : `ETA ${eta === undefined ? '--' : formatDuration(eta)}`;
    if (!this.stream.isTTY) return `${this.stage}: ${counts} ${timing}`;
    const width = this.opts.width ?? Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.stage.length - 40));
    const fill = Math.round((width * pct) / 100);
    return `${this.stage} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${counts} ${timing}`;
  }

  update(done: number): void {
    if (this.closed) return;
    this.done = Math.max(0, Math.min(done, this.total));
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${this.line()}`);
    } else {
      const t = this.now();
      if (t - this.lastPlain >= (this.opts.plainEveryMs ?? 5000) || this.done >= this.total) {
        this.lastPlain = t;
        this.stream.write(`${this.line()}\n`);
      }
    }
    if (this.done >= this.total) this.finish();
  }

  tick(n = 1): void {
    this.update(this.done + n);
  }

  /** Ends the bar's line (TTY); idempotent. */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
