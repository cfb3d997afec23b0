/**
 * Training progress on the console. On a terminal: one status line (bar, iteration, losses, lr,
 * it/s, ETA) kept at the bottom, and every other line written meanwhile — ablate's log lines, a
 * plugin's, a library's console.warn — is printed above it: the status line owns the terminal's
 * last line while it is shown, so nothing is written into or over it. Without a terminal: a plain
 * line every few iterations, one line per event, so CI logs and piped output stay readable. Goes
 * to stderr, so stdout stays clean for results and `--json`.
 */

export interface ProgressOptions {
  total: number;
  start: number;
  mode: 'auto' | 'always' | 'never';
  /** Iterations between log lines without a bar (0 = about 20 lines per run). */
  logEvery: number;
  label: string;
  stream?: NodeJS.WriteStream;
  /** Where log lines go when there is no bar. */
  write?: (line: string) => void;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(4).replace(/\.?0+$/, '') || '0';
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

const CLEAR_LINE = '\r\x1b[2K';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
/** Redraws at most this often; a log line above the bar redraws it at once. */
const FRAME_MS = 200;

type Write = NodeJS.WriteStream['write'];

function endsLine(chunk: unknown): boolean {
  if (typeof chunk === 'string') return chunk.endsWith('\n');
  if (chunk instanceof Uint8Array) return chunk.length > 0 && chunk[chunk.length - 1] === 0x0a;
  return false;
}

/**
 * The last line of a terminal, kept below whatever else is written. While shown it wraps `write`
 * of its stream (and of stdout when that is the same terminal): a foreign write first erases the
 * status line, and a write that ends a line draws it again below. A write that leaves a line
 * open (a prompt, a partial line) keeps the status line hidden until that line is ended.
 */
export class StatusLine {
  private text = '';
  private shown = false;
  private openLine = false;
  private lastDraw = 0;
  private readonly originals = new Map<NodeJS.WriteStream, Write>();
  private readonly raw: (s: string) => void;
  private readonly onExit = () => this.raw(SHOW_CURSOR);

  constructor(private readonly stream: NodeJS.WriteStream) {
    const write = stream.write.bind(stream) as (s: string) => boolean;
    this.raw = (s) => void write(s);
    const targets = new Set([stream]);
    // stdout on the same terminal shares the last line too (a plugin's console.log).
    if (stream.isTTY && process.stdout.isTTY && stream !== process.stdout) targets.add(process.stdout);
    for (const target of targets) this.wrap(target);
    this.raw(HIDE_CURSOR);
    process.once('exit', this.onExit);
  }

  private wrap(target: NodeJS.WriteStream): void {
    const original = target.write;
    this.originals.set(target, original);
    const self = this;
    target.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      self.erase();
      const ok = (original as (...a: unknown[]) => boolean).call(target, chunk, ...rest);
      self.openLine = !endsLine(chunk);
      if (!self.openLine) self.draw();
      return ok;
    } as Write;
  }

  private erase(): void {
    if (this.shown) this.raw(CLEAR_LINE);
    this.shown = false;
  }

  /** Draws `text` now (`force`) or when the last frame is old enough. */
  set(text: string, force = false): void {
    this.text = text;
    const now = performance.now();
    if (force || now - this.lastDraw >= FRAME_MS) this.draw();
  }

  private draw(): void {
    if (this.openLine || this.text === '') return;
    // A line wider than the terminal wraps, and erasing would then leave its first part behind.
    const width = Math.max(20, (this.stream.columns || 100) - 1);
    this.raw(`${CLEAR_LINE}${this.text.length > width ? this.text.slice(0, width) : this.text}`);
    this.shown = true;
    this.lastDraw = performance.now();
  }

  /** Leaves the last state on the terminal as an ordinary line and gives the streams back. */
  stop(keep: boolean): void {
    if (keep && this.text !== '' && !this.openLine) {
      this.draw();
      this.raw('\n');
    } else this.erase();
    this.shown = false;
    for (const [target, original] of this.originals) target.write = original;
    this.originals.clear();
    this.raw(SHOW_CURSOR);
    process.removeListener('exit', this.onExit);
  }
}

function bar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export class Progress {
  private readonly status: StatusLine | undefined;
  private readonly every: number;
  private readonly write: (line: string) => void;
  private readonly t0 = performance.now();
  private lastLine = -1;
  private stopped = false;

  constructor(private readonly opts: ProgressOptions) {
    const stream = opts.stream ?? process.stderr;
    const tty = Boolean(stream.isTTY) && process.env.CI !== 'true';
    const useBar = opts.mode === 'always' || (opts.mode === 'auto' && tty);
    this.every = opts.logEvery > 0 ? opts.logEvery : Math.max(1, Math.round((opts.total - opts.start) / 20));
    this.write = opts.write ?? ((l) => stream.write(`${l}\n`));
    if (useBar) {
      this.status = new StatusLine(stream);
      this.status.set(this.line(opts.start, '', '-', '?'), true);
    }
  }

  private line(done: number, stats: string, speed: string, eta: string): string {
    return `${this.opts.label} |${bar(done, this.opts.total)}| ${done}/${this.opts.total}${stats ? ` ${stats}` : ''} | ${speed} it/s | ETA ${eta}`;
  }

  /** After iteration `iteration` (0-based) finished; `scalars` are losses and lr. */
  update(iteration: number, scalars: Record<string, number>, itPerSec: number, lr?: number): void {
    const done = iteration + 1;
    const eta = itPerSec > 0 ? (this.opts.total - done) / itPerSec : Number.NaN;
    // The first few scalars (trainers report their main losses first), then the base lr.
    const stats = [
      ...Object.entries(scalars)
        .filter(([k]) => !k.startsWith('lr/'))
        .slice(0, 5)
        .map(([k, v]) => `${k.replace(/^loss_/, '')} ${fmt(v)}`),
      ...(lr === undefined ? [] : [`lr ${fmt(lr)}`]),
    ].join(' ');
    const speed = itPerSec > 0 ? itPerSec.toFixed(2) : '-';
    if (this.status) {
      this.status.set(this.line(done, stats, speed, formatEta(eta)), done === this.opts.total);
      return;
    }
    if (done === this.opts.total || done - this.opts.start === 1 || done % this.every === 0) {
      if (done === this.lastLine) return;
      this.lastLine = done;
      this.write(`${this.opts.label} it ${done}/${this.opts.total} ${stats} | ${speed} it/s | ETA ${formatEta(eta)}`);
    }
  }

  /** A line for the log (above the bar on a terminal). */
  note(line: string): void {
    this.write(line);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.status?.stop(true);
  }

  elapsedSeconds(): number {
    return (performance.now() - this.t0) / 1000;
  }
}
