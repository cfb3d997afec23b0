/**
 * Training progress on the console: a cli-progress bar (iteration, losses, lr, it/s, ETA) on a
 * terminal, otherwise a plain log line every few iterations so CI logs and piped output stay
 * readable. Goes to stderr, so stdout stays clean for results and `--json`.
 */
import cliProgress from 'cli-progress';

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

export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly every: number;
  private readonly write: (line: string) => void;
  private readonly t0 = performance.now();
  private lastLine = -1;

  constructor(private readonly opts: ProgressOptions) {
    const stream = opts.stream ?? process.stderr;
    const tty = Boolean(stream.isTTY) && process.env.CI !== 'true';
    const useBar = opts.mode === 'always' || (opts.mode === 'auto' && tty);
    this.every = opts.logEvery > 0 ? opts.logEvery : Math.max(1, Math.round((opts.total - opts.start) / 20));
    this.write = opts.write ?? ((l) => stream.write(`${l}\n`));
    if (useBar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${opts.label} |{bar}| {value}/{total} {stats} | {speed} it/s | ETA {eta_h}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
          fps: 5,
          noTTYOutput: opts.mode === 'always' && !tty,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(opts.total, opts.start, { stats: '', speed: '-', eta_h: '?' });
    }
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
    if (this.bar) {
      this.bar.update(done, { stats, speed: itPerSec > 0 ? itPerSec.toFixed(2) : '-', eta_h: formatEta(eta) });
      return;
    }
    if (done === this.opts.total || done - this.opts.start === 1 || done % this.every === 0) {
      if (done === this.lastLine) return;
      this.lastLine = done;
      this.write(`${this.opts.label} it ${done}/${this.opts.total} ${stats} | ${itPerSec > 0 ? itPerSec.toFixed(2) : '-'} it/s | ETA ${formatEta(eta)}`);
    }
  }

  /** A message that must not be overdrawn by the bar. */
  note(line: string): void {
    if (this.bar) {
      process.stderr.write('\n');
      this.write(line);
    } else this.write(line);
  }

  stop(): void {
    this.bar?.stop();
  }

  elapsedSeconds(): number {
    return (performance.now() - this.t0) / 1000;
  }
}
