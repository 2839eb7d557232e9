// Terminal progress for long sweeps: one redrawn bar line on a TTY; on a pipe or in a log file,
// plain lines at most every `plainEveryMs` (plus the last), so logs stay readable.
//
// The bar shows a fraction of work (whatever unit the caller counts in), never moves back (an
// estimate of the total may be revised upwards while work runs), and its ETA divides the work
// left by the throughput measured over a recent window: shown only once the window holds enough
// progress to measure, and never as "0s" while work is left.
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
  /** Print `done/total` next to the percentage (default true; off when the unit means nothing to a reader). */
  counts?: boolean;
  /** Throughput window for the ETA (default 30 s, or a fifth of the time measured when longer). */
  windowMs?: number;
  /** Least time the measured progress must span before an ETA is shown (default 3 s). */
  minSpanMs?: number;
  /** Least fraction of the total the measured progress must cover before an ETA is shown (default 0.01). */
  minGainFraction?: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** An ETA for the terminal: `--` when unknown, at least `1s` while work is left. */
export function formatEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '--';
  return formatDuration(Math.max(1000, ms));
}

/** Kept samples are at least this far apart (bounded memory over days of polling). */
const SAMPLE_EVERY_MS = 1000;

/**
 * Work done per millisecond over a recent window, from (time, work done) samples: the last
 * `windowMs`, or the last `windowFraction` of the time measured when that is longer (a three-hour
 * sweep's ETA then follows its last half hour, not whichever activity ran this minute). Falls back
 * to the whole run's average when the window saw too little progress (one long step without
 * heartbeats); undefined until progress of at least `minGain` spanning at least `minSpanMs` has
 * been seen (one tiny first step says nothing about the rest).
 */
export class Throughput {
  private readonly samples: Array<{ t: number; done: number }> = [];
  private first: { t: number; done: number } | undefined;

  constructor(
    readonly windowMs = 30_000,
    readonly minSpanMs = 3_000,
    readonly windowFraction = 0.2,
  ) {}

  add(t: number, done: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && t <= last.t) {
      last.done = Math.max(last.done, done);
      return;
    }
    this.first ??= { t, done };
    // At most one kept sample per second (the newest is overwritten in between): bounded memory over days.
    const before = this.samples[this.samples.length - 2];
    if (last && before && t - before.t < SAMPLE_EVERY_MS) {
      last.t = t;
      last.done = Math.max(last.done, done);
    } else this.samples.push({ t, done });
    // Keep one sample at or before the window's start as its anchor.
    const window = Math.max(this.windowMs, this.windowFraction * (t - this.first.t));
    while (this.samples.length > 2 && this.samples[1]!.t <= t - window) this.samples.shift();
  }

  /** Samples kept (the window's, about one a second). */
  get sampleCount(): number {
    return this.samples.length;
  }

  /** Work per millisecond, or undefined while it cannot be measured. */
  rate(minGain = 0): number | undefined {
    const last = this.samples[this.samples.length - 1];
    if (!last || !this.first) return undefined;
    const measurable = (from: { t: number; done: number }) => last.t - from.t >= this.minSpanMs && last.done - from.done > minGain;
    const anchor = this.samples[0]!;
    if (measurable(anchor)) return (last.done - anchor.done) / (last.t - anchor.t);
    if (measurable(this.first)) return (last.done - this.first.done) / (last.t - this.first.t);
    return undefined;
  }

  /**
   * Milliseconds until `total` at the measured rate; 0 once done; undefined while unknown, or
   * while less than `minGainFraction` of the total was measured.
   */
  remainingMs(total: number, minGainFraction = 0): number | undefined {
    const last = this.samples[this.samples.length - 1];
    if (last && last.done >= total) return 0;
    const r = this.rate(minGainFraction * total);
    return r === undefined || !last ? undefined : (total - last.done) / r;
  }
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private throughput: Throughput;
  private lastPlain = -Infinity;
  private lastLine = '';
  private done = 0;
  private closed = false;
  private detail = '';

  constructor(
    private label: string,
    private total: number,
    private readonly opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    this.throughput = new Throughput(opts.windowMs, opts.minSpanMs);
  }

  /** Fraction shown, 0..1. */
  fraction(): number {
    return this.total > 0 ? Math.min(1, this.done / this.total) : 1;
  }

  /** The line as it would be printed now (without bar on non-TTY streams). */
  line(): string {
    const elapsed = this.now() - this.started;
    const pct = 100 * this.fraction();
    // Floor, so 100% means finished, not 99.6% rounded up.
    const pctText = `${Math.floor(pct)}%`;
    const counts = this.opts.counts === false ? pctText : `${fmtCount(this.done)}/${fmtCount(this.total)} (${pctText})`;
    const finished = this.done >= this.total;
    const timing = finished ? `done in ${formatDuration(elapsed)}` : `ETA ${formatEta(this.throughput.remainingMs(this.total, this.opts.minGainFraction ?? 0.01))}`;
    const detail = this.detail && !finished ? ` · ${this.detail}` : '';
    if (!this.stream.isTTY) return `${this.label}: ${counts} ${timing}${detail}`;
    // The bar gives way to the label and the detail; the rest of the line is about 25 characters.
    const width = this.opts.width ?? Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - [...detail].length - 25));
    const fill = Math.floor((width * pct) / 100);
    const text = `${this.label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${counts} ${timing}${detail}`;
    // A line wider than the terminal wraps, and the redraw (\r, clear line) would then leave its
    // first part behind on every update: cut it to the width.
    const max = (this.stream.columns ?? 80) - 1;
    return [...text].length <= max ? text : `${[...text].slice(0, max - 1).join('')}…`;
  }

  /**
   * Work done so far (clamped to 0..total, never below what was shown before). `total` may be
   * revised; the shown fraction still never decreases. `label` and `detail` replace the line's
   * text (the current stage, the running activity's own count).
   */
  update(done: number, change: { total?: number; label?: string; detail?: string } = {}): void {
    if (this.closed) return;
    if (change.label !== undefined) this.label = change.label;
    if (change.detail !== undefined) this.detail = change.detail;
    if (change.total !== undefined && change.total > 0 && change.total !== this.total) {
      const shown = this.fraction();
      this.total = change.total;
      // Keep the fraction already shown: the bar does not move back when the estimate grows.
      this.done = Math.max(shown * this.total, 0);
      // Throughput measured in the old total's units does not carry over.
      this.throughput = new Throughput(this.opts.windowMs, this.opts.minSpanMs);
    }
    this.done = Math.min(this.total, Math.max(this.done, done, 0));
    this.throughput.add(this.now(), this.done);
    const text = this.line();
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
    } else {
      const t = this.now();
      const finished = this.done >= this.total;
      if ((t - this.lastPlain >= (this.opts.plainEveryMs ?? 5000) && text !== this.lastLine) || finished) {
        this.lastPlain = t;
        this.lastLine = text;
        this.stream.write(`${text}\n`);
      }
    }
    if (this.done >= this.total) this.finish();
  }

  /** Prints lines above the bar (the bar's line is redrawn below them on the next update). */
  printAbove(text: string): void {
    this.stream.write(this.stream.isTTY && !this.closed ? `\r\x1b[2K${text}\n` : `${text}\n`);
    this.lastLine = '';
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

function fmtCount(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
