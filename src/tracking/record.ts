/**
 * The local record of a run (the outbox): an append-only JSONL file plus copies of the logged
 * artifacts, under `<runDir>/tracking/`. Every run is written here first, synchronously, so the
 * record is the truth: each sink (`trackers:`) is fed from it, `ablate sync` replays it later, and
 * `ablate report` can read it without any server.
 *
 *   <runDir>/tracking/record.jsonl     one event per line (see RecordEvent)
 *   <runDir>/tracking/artifacts/...    copies of logged files, as laid out in the run's artifacts
 *   <runDir>/tracking/<sink state>     what a sink keeps to resume delivery (how far it got)
 */
import { closeSync, copyFileSync, constants as fsc, cpSync, existsSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { AblateError } from '../errors.js';
import { decodeMetricValue, encodeMetricValue } from './metric-values.js';
import { maskUrlCredentials } from './secrets.js';
import type { DatasetInput, RecordEvent, ResumeEvent, RunStatus, StartEvent } from '../plugin/contracts.js';

export type { RecordEvent, StartEvent };

export const RECORD_DIR = 'tracking';
export const RECORD_FILE = 'record.jsonl';
export const RECORD_ARTIFACTS = 'artifacts';
const FORMAT_VERSION = 1;

export function recordPaths(runDir: string) {
  const dir = path.join(runDir, RECORD_DIR);
  return { dir, file: path.join(dir, RECORD_FILE), artifacts: path.join(dir, RECORD_ARTIFACTS) };
}

export function newRunId(): string {
  return randomUUID().replace(/-/g, '');
}

/** What a continued record already holds (RecordWriter.continue reads it). */
interface Continued {
  start: StartEvent;
  params: Record<string, string>;
  /** (key, step) pairs logged before the resume: a point logged again for one is recomputed. */
  steps: Map<string, Set<number>>;
  iteration?: number;
}

/** Appends events to a run's record. Writes are synchronous so nothing is lost if the process dies. */
export class RecordWriter {
  readonly runDir: string;
  readonly id: string;
  /** The record's first event (written by the constructor, before anyone could listen). */
  readonly start: StartEvent;
  /** Set when this writer continues an earlier record: the resume event it appended. */
  readonly resumed: ResumeEvent | undefined;
  private fd: number | undefined;
  private readonly params = new Map<string, string>();
  private readonly earlierSteps: Map<string, Set<number>> | undefined;
  private readonly paths: ReturnType<typeof recordPaths>;
  private ended = false;
  /** Called after each append (the shipper uses it to wake up early). */
  onAppend: ((e: RecordEvent) => void) | undefined;
  /** Where warnings go (param changes, missing artifact files). */
  warn: (message: string) => void = (m) => process.emitWarning(m);

  constructor(runDir: string, start: Omit<StartEvent, 't' | 'v' | 'time' | 'pid' | 'host' | 'id'> & { id?: string; time?: number }, continued?: Continued) {
    this.runDir = path.resolve(runDir);
    this.paths = recordPaths(this.runDir);
    if (!continued && existsSync(this.paths.file) && statSync(this.paths.file).size > 0) {
      throw new AblateError('tracking.record-exists', `run folder ${this.runDir} already holds a tracking record`, {
        where: { file: this.paths.file },
        hint: 'use a new run folder for each run (a resumed run continues its record: ablate run --resume)',
      });
    }
    mkdirSync(this.paths.artifacts, { recursive: true });
    this.fd = openSync(this.paths.file, 'a');
    if (continued) {
      this.start = continued.start;
      this.id = continued.start.id;
      for (const [k, v] of Object.entries(continued.params)) this.params.set(k, v);
      this.earlierSteps = continued.steps;
      this.resumed = { t: 'resume', time: Date.now(), pid: process.pid, host: os.hostname(), ...(continued.iteration !== undefined ? { iteration: continued.iteration } : {}) };
      this.append(this.resumed);
      return;
    }
    this.id = start.id ?? newRunId();
    this.resumed = undefined;
    this.earlierSteps = undefined;
    this.start = {
      t: 'start',
      v: FORMAT_VERSION,
      id: this.id,
      name: start.name,
      experiment: start.experiment,
      ...(start.parent ? { parent: start.parent } : {}),
      time: start.time ?? Date.now(),
      pid: process.pid,
      host: os.hostname(),
    };
    this.append(this.start);
  }

  /**
   * Continues the run recorded in `runDir` (a resumed attempt, or another process ending it): the
   * same record and run id, so every sink continues the same run. Appends a `resume` event.
   * Params already recorded stay (equal values are no-ops, changed ones are dropped with a
   * warning, as MLflow keeps params write-once); a metric point for a (key, step) the record
   * already holds goes to a `recomputed` event, since MLflow can add points but never remove one.
   * Refused while the record's writer is alive on this machine.
   */
  static continue(runDir: string, opts: { iteration?: number; released?: boolean; warn?: (message: string) => void } = {}): RecordWriter {
    const dir = path.resolve(runDir);
    const { file } = recordPaths(dir);
    if (!existsSync(file)) throw new AblateError('tracking.no-record', `${dir} holds no tracking record to continue`, { where: { file } });
    const { start, record } = foldRecord(dir);
    if (record.status === 'RUNNING' && !opts.released) {
      if (record.host === os.hostname() && writerAlive(record)) {
        throw new AblateError('tracking.record-in-use', `the run in ${dir} is still being written by process ${record.pid}`, {
          where: { file },
          hint: 'wait for it to end (or stop it: Ctrl-C checkpoints) before continuing the run',
        });
      }
      if (record.host !== os.hostname()) opts.warn?.(`the run in ${dir} was last written on ${record.host} (process ${record.pid}) and did not end; continuing it here`);
    }
    dropPartialLine(file);
    const steps = new Map<string, Set<number>>();
    for (const [k, points] of Object.entries(record.metrics)) steps.set(k, new Set(points.map((p) => p.step)));
    return new RecordWriter(dir, start, { start, params: record.params, steps, ...(opts.iteration !== undefined ? { iteration: opts.iteration } : {}) });
  }

  private append(e: RecordEvent): void {
    if (this.fd === undefined) throw new AblateError('tracking.record-closed', `run ${this.id} has ended; nothing more can be logged`);
    writeSync(this.fd, `${JSON.stringify(e)}\n`);
    this.onAppend?.(e);
  }

  /**
   * Params are write-once in MLflow: a changed value would be refused by the server, so it is
   * dropped here with a warning (the first value stays the run's truth). Equal values are no-ops.
   */
  logParams(params: Record<string, string>): void {
    const fresh: Record<string, string> = {};
    for (const [k, raw] of Object.entries(params)) {
      const v = maskUrlCredentials(String(raw));
      const old = this.params.get(k);
      if (old === undefined) {
        this.params.set(k, v);
        fresh[k] = v;
      } else if (old !== v) {
        this.warn(`param '${k}' was already logged as '${clip(old)}'; ignoring new value '${clip(v)}' (params are write-once)`);
      }
    }
    if (Object.keys(fresh).length > 0) this.append({ t: 'params', p: fresh });
  }

  setTags(tags: Record<string, string>): void {
    if (Object.keys(tags).length > 0) this.append({ t: 'tags', tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, maskUrlCredentials(String(v))])) });
  }

  logMetrics(step: number, metrics: Record<string, number>, timestampMs?: number): void {
    const at = Math.round(step);
    const ts = Math.round(timestampMs ?? Date.now());
    const m: Record<string, number | string> = {};
    const again: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(metrics)) (this.earlierSteps?.get(k)?.has(at) ? again : m)[k] = encodeMetricValue(Number(v));
    if (Object.keys(m).length > 0) this.append({ t: 'metrics', step: at, ts, m });
    if (Object.keys(again).length > 0) this.append({ t: 'recomputed', step: at, ts, m: again });
  }

  /**
   * Copies a file or folder into the record (so a checkpoint overwritten later, or a temp file
   * deleted, still ships as it was) and records it under `artifactDir/<basename>`.
   */
  logArtifact(localPath: string, artifactDir = ''): void {
    const src = path.resolve(localPath);
    if (!existsSync(src)) {
      this.warn(`artifact ${src} does not exist; not logged`);
      return;
    }
    const dir = normalizeArtifactDir(artifactDir);
    const rel = dir ? `${dir}/${path.basename(src)}` : path.basename(src);
    const dest = path.join(this.paths.artifacts, rel);
    if (src !== dest) {
      mkdirSync(path.dirname(dest), { recursive: true });
      if (statSync(src).isDirectory()) cpSync(src, dest, { recursive: true, force: true });
      else copyFileSync(src, dest, fsc.COPYFILE_FICLONE);
    }
    this.append({ t: 'artifact', file: rel });
  }

  /** Writes `content` as an artifact file of the run (e.g. the resolved YAML). */
  logText(artifactPath: string, content: string | Buffer): void {
    const rel = normalizeArtifactDir(artifactPath);
    const dest = path.join(this.paths.artifacts, rel);
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, content);
    this.append({ t: 'artifact', file: rel });
  }

  logInput(input: DatasetInput): void {
    this.append({ t: 'input', input });
  }

  /** Lets go of the record without ending the run (another process will continue it: RecordWriter.continue). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  end(status: Exclude<RunStatus, 'RUNNING'>): void {
    if (this.ended) return;
    this.ended = true;
    this.append({ t: 'end', status, time: Date.now() });
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  get isEnded(): boolean {
    return this.ended;
  }
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function normalizeArtifactDir(p: string): string {
  const parts = p.split(/[\\/]+/).filter((s) => s.length > 0 && s !== '.');
  if (parts.includes('..')) throw new AblateError('tracking.artifact-path', `artifact path '${p}' must stay inside the run's artifacts`);
  return parts.join('/');
}

// ─── reading ─────────────────────────────────────────────────────────────────────────────────

/** Complete lines of the record from byte `offset` on; a half-written last line is left for later. */
export function readEventsFrom(file: string, offset: number): { events: { event: RecordEvent; end: number }[]; next: number } {
  const size = statSync(file).size;
  if (size <= offset) return { events: [], next: offset };
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    const events: { event: RecordEvent; end: number }[] = [];
    let pos = 0;
    let lineNo = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      lineNo++;
      const line = buf.subarray(pos, nl).toString('utf8').trim();
      pos = nl + 1;
      if (line.length === 0) continue;
      try {
        events.push({ event: JSON.parse(line) as RecordEvent, end: offset + pos });
      } catch (e) {
        throw new AblateError('tracking.record-corrupt', `cannot parse a line of the tracking record`, {
          where: { file, line: lineNo },
          cause: e,
        });
      }
    }
    return { events, next: offset + pos };
  } finally {
    closeSync(fd);
  }
}

export interface MetricHistoryPoint {
  step: number;
  timestamp: number;
  value: number;
}

/** Everything a record holds, folded: what `report` and tests read. */
export interface RunRecord {
  runDir: string;
  id: string;
  name: string;
  experiment: string;
  parent?: string;
  startTime: number;
  endTime?: number;
  /** RUNNING when the record has no end event after its last resume (still running, or the process died). */
  status: RunStatus;
  /** The process writing the run now (the last resumed attempt's). */
  pid: number;
  host: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, MetricHistoryPoint[]>;
  artifacts: string[];
  inputs: DatasetInput[];
  /** Each time another process continued the run (a resumed attempt), in order. */
  resumes: { time: number; iteration?: number }[];
}

export function isRunDir(dir: string): boolean {
  return existsSync(recordPaths(dir).file);
}

/** Reads and folds a run's record. */
export function readRecord(runDir: string): RunRecord {
  return foldRecord(runDir).record;
}

/** A record whose last line was cut off (its process died mid-write) loses that partial line, never shipped or read. */
function dropPartialLine(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    const size = statSync(file).size;
    const tail = Buffer.alloc(Math.min(size, 64 * 1024));
    let end = size;
    for (;;) {
      if (end === 0) break;
      const n = Math.min(tail.length, end);
      readSync(fd, tail, 0, n, end - n);
      const nl = tail.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) {
        end = end - n + nl + 1;
        break;
      }
      end -= n;
    }
    if (end < size) ftruncateSync(fd, end);
  } finally {
    closeSync(fd);
  }
}

function foldRecord(runDir: string): { start: StartEvent; record: RunRecord } {
  const { file } = recordPaths(runDir);
  if (!existsSync(file)) {
    throw new AblateError('tracking.no-record', `${runDir} is not a run folder (no ${RECORD_DIR}/${RECORD_FILE})`, { where: { file: runDir } });
  }
  const { events } = readEventsFrom(file, 0);
  const first = events[0]?.event;
  if (!first || first.t !== 'start') {
    throw new AblateError('tracking.record-corrupt', `tracking record does not begin with a start event`, { where: { file, line: 1 } });
  }
  const rec: RunRecord = {
    runDir: path.resolve(runDir),
    id: first.id,
    name: first.name,
    experiment: first.experiment,
    ...(first.parent ? { parent: first.parent } : {}),
    startTime: first.time,
    status: 'RUNNING',
    pid: first.pid,
    host: first.host,
    params: {},
    tags: {},
    metrics: {},
    artifacts: [],
    inputs: [],
    resumes: [],
  };
  for (const { event: e } of events.slice(1)) {
    switch (e.t) {
      case 'params':
        for (const [k, v] of Object.entries(e.p)) if (!(k in rec.params)) rec.params[k] = v;
        break;
      case 'tags':
        Object.assign(rec.tags, e.tags);
        break;
      case 'metrics':
        for (const [k, v] of Object.entries(e.m)) (rec.metrics[k] ??= []).push({ step: e.step, timestamp: e.ts, value: decodeMetricValue(v) });
        break;
      case 'artifact':
        if (!rec.artifacts.includes(e.file)) rec.artifacts.push(e.file);
        break;
      case 'input':
        rec.inputs.push(e.input);
        break;
      case 'end':
        rec.status = e.status;
        rec.endTime = e.time;
        break;
      case 'resume':
        // Continued by another process: running again, and that process is the writer now.
        rec.status = 'RUNNING';
        delete rec.endTime;
        rec.pid = e.pid;
        rec.host = e.host;
        rec.resumes.push({ time: e.time, ...(e.iteration !== undefined ? { iteration: e.iteration } : {}) });
        break;
      default:
        break;
    }
  }
  return { start: first, record: rec };
}

/** Whether the process that wrote an unfinished record is still alive on this machine. */
export function writerAlive(rec: RunRecord): boolean {
  if (rec.status !== 'RUNNING') return false;
  if (rec.host !== os.hostname()) return true; // cannot tell: assume it is running elsewhere
  try {
    process.kill(rec.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
