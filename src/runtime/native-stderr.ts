/**
 * TensorFlow's native start-up lines, kept off the terminal unless asked for.
 *
 * TensorFlow 2.21 logs through absl, and absl writes every message to file descriptor 2 until the
 * host calls absl::InitializeLog(), which no user of the C library does. So TF_CPP_MIN_LOG_LEVEL
 * does not hide what TensorFlow's static initialisers print while the shared library loads:
 *
 *   WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
 *   I0000 00:00:1796529767.493839    2083 port.cc:153] oneDNN custom operations are on. …
 *
 * Turning oneDNN off (TF_ENABLE_ONEDNN_OPTS=0) would hide the second line by changing the numerics,
 * so instead, while the addon loads, fd 2 points at an unlinked temporary file (libc's dup/dup2,
 * called through the optional FFI package koffi: Node itself cannot move a file descriptor).
 * Afterwards the lines are filtered the way TensorFlow would have filtered them after absl's
 * initialisation (severity below TF_CPP_MIN_LOG_LEVEL dropped, absl's "before InitializeLog"
 * notice dropped) and everything else is written to stderr as it came: an error printed while
 * loading is never lost. `ABLATE_TF_LOG=1` leaves fd 2 alone and shows them all.
 *
 * Without koffi (an install that skipped optional packages) or off Linux, the load runs unwrapped
 * and the two lines print as before.
 */
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The environment variable that shows TensorFlow's native log lines (`1`). */
export const TF_LOG_ENV = 'ABLATE_TF_LOG';

/** Whether the user asked to see TensorFlow's native log lines. */
export function nativeLogWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[TF_LOG_ENV];
  return v !== undefined && v !== '' && v !== '0';
}

interface Libc {
  dup(fd: number): number;
  dup2(from: number, to: number): number;
}

/** The part of koffi used here. */
interface Koffi {
  load(lib: string): { func(signature: string): (...args: number[]) => number };
}

let libc: Libc | null | undefined;

/** libc's dup and dup2 through koffi, or null where either is unavailable. */
function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== 'linux') return libc;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const c = koffi.load('libc.so.6');
    const dup = c.func('int dup(int)');
    const dup2 = c.func('int dup2(int, int)');
    libc = { dup: (fd) => dup(fd), dup2: (a, b) => dup2(a, b) };
  } catch {
    // Optional package missing or a libc without that name (musl): load unwrapped.
  }
  return libc;
}

const SEVERITY: Record<string, number> = { I: 0, W: 1, E: 2, F: 3 };
// absl's prefix: severity letter, MMDD, time (before initialisation `00:00:<epoch seconds>`),
// thread id, file:line]
const ABSL_LINE = /^([IWEF])\d{4} [\d:.]+\s+\d+ [^\s\]]+:\d+\] /;
const ABSL_NOTICE = /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/;

/**
 * The lines of `text` that TensorFlow would still print after absl's initialisation with
 * TF_CPP_MIN_LOG_LEVEL = `minLevel` (0 INFO … 3 FATAL only). Lines that are not absl's are kept.
 */
export function keptNativeLines(text: string, minLevel: number): string {
  const lines = text.split('\n');
  const last = lines.pop(); // '' when the text ends with a newline
  const kept = lines.filter((line) => {
    if (ABSL_NOTICE.test(line)) return false;
    const m = ABSL_LINE.exec(line);
    return !m || (SEVERITY[m[1]!] ?? 3) >= minLevel;
  });
  if (last) kept.push(last);
  return kept.length ? `${kept.join('\n')}${last ? '' : '\n'}` : '';
}

function minLogLevel(): number {
  const n = Number(process.env['TF_CPP_MIN_LOG_LEVEL'] ?? '0');
  return Number.isInteger(n) ? n : 0;
}

function readAll(fd: number): string {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n <= 0) break;
    off += n;
  }
  return buf.subarray(0, off).toString('utf8');
}

/**
 * Runs `load` (synchronous: nothing else of this process writes to stderr meanwhile) with fd 2
 * captured, then writes back the lines that are not TensorFlow's start-up noise.
 */
export function withNativeStderrFiltered<T>(load: () => T): T {
  const c = nativeLogWanted() ? null : loadLibc();
  if (!c) return load();
  const file = path.join(os.tmpdir(), `ablate-tf-stderr-${process.pid}-${Date.now()}`);
  const sink = openSync(file, 'wx+', 0o600);
  unlinkSync(file); // the open descriptor keeps it; nothing is left behind
  const saved = c.dup(2);
  if (saved < 0 || c.dup2(sink, 2) < 0) {
    if (saved >= 0) closeSync(saved);
    closeSync(sink);
    return load();
  }
  try {
    return load();
  } finally {
    c.dup2(saved, 2);
    closeSync(saved);
    const text = readAll(sink);
    closeSync(sink);
    const kept = keptNativeLines(text, minLogLevel());
    if (kept) process.stderr.write(kept);
  }
}
