/**
 * `ablate sync`: replays finished local run records into a sink (`--to <tracker type>`). The
 * core finds the run folders, closes records whose process died, and orders parents before
 * children; the sink's own `sync` delivers each record and is safe to repeat.
 */
import { appendFileSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import type { EndEvent, TagsEvent } from '../plugin/contracts.js';
import type { NamedSink } from './open.js';
import { isRunDir, readRecord, recordPaths, writerAlive, type RunRecord } from './record.js';

export interface SyncOptions {
  log?: (line: string) => void;
  warn?: (line: string) => void;
}

export interface SyncResult {
  runDir: string;
  name: string;
  outcome: 'synced' | 'up-to-date' | 'skipped-running' | 'failed';
  /** Where the run went, in the sink's words. */
  detail?: string;
  requests: number;
  error?: string;
}

/** How deep below the folder given run folders are looked for (a sweep's cells are 3 levels down). */
const MAX_RUN_DEPTH = 8;

const warnToStderr = (line: string) => void process.stderr.write(`warning: ${line}\n`);

/**
 * Every run folder at or below `root` (a folder holding tracking/record.jsonl), at most
 * MAX_RUN_DEPTH levels down; symbolic links are not followed. When the bound leaves folders
 * unsearched, `warn` is told once, naming the first of them: a run there is not silently missing.
 */
export function findRunDirs(root: string, warn: (line: string) => void = warnToStderr): string[] {
  const out: string[] = [];
  // Each real directory once (by device and inode): a loop a bind mount makes cannot multiply runs.
  const visited = new Set<string>();
  const cut: string[] = [];
  const walk = (dir: string, depth: number) => {
    const st = statSync(dir, { throwIfNoEntry: false, bigint: true });
    if (!st) return;
    const id = `${st.dev}:${st.ino}`;
    if (visited.has(id)) return;
    visited.add(id);
    if (isRunDir(dir)) out.push(dir);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e === 'node_modules' || e === '.git' || e === 'tracking' || e.startsWith('.')) continue;
      const p = path.join(dir, e);
      // lstat: a symbolic link is not followed out of the folder being synced.
      if (!lstatSync(p, { throwIfNoEntry: false })?.isDirectory()) continue;
      if (depth >= MAX_RUN_DEPTH) cut.push(p);
      else walk(p, depth + 1);
    }
  };
  const start = path.resolve(root);
  walk(start, 0);
  if (cut.length > 0) {
    const first = path.relative(process.cwd(), cut[0]!) || cut[0]!;
    warn(`run folders are looked for at most ${MAX_RUN_DEPTH} levels below ${path.relative(process.cwd(), start) || '.'}: ${first}${cut.length > 1 ? ` and ${cut.length - 1} other folder(s) that deep` : ''} not searched (pass a folder nearer the runs)`);
  }
  return out;
}

/**
 * The cells of the sweep folders among `dirs`: a sweep's `sweep.json` lists its cells' run
 * folders, which sit beside the sweep folder, not below it. Only such siblings (or folders below
 * the sweep's) that are run folders and no symbolic links are taken from that file.
 */
export function withSweepCells(dirs: readonly string[]): string[] {
  const out = [...dirs];
  const seen = new Set(dirs.map((d) => path.resolve(d)));
  for (const dir of dirs) {
    let cells: unknown;
    try {
      cells = (JSON.parse(readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as { cells?: unknown }).cells;
    } catch {
      continue;
    }
    if (!Array.isArray(cells)) continue;
    const sweep = path.resolve(dir);
    for (const c of cells as Array<{ runDir?: unknown }>) {
      if (typeof c?.runDir !== 'string') continue;
      const cell = path.resolve(sweep, c.runDir);
      const placed = path.dirname(cell) === path.dirname(sweep) || cell.startsWith(`${sweep}${path.sep}`);
      if (!placed || seen.has(cell) || !lstatSync(cell, { throwIfNoEntry: false })?.isDirectory() || !isRunDir(cell)) continue;
      seen.add(cell);
      out.push(cell);
    }
  }
  return out;
}

/** Orders records so that every parent comes before its children. */
export function parentsFirst(records: RunRecord[]): RunRecord[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const depth = (r: RunRecord, seen = new Set<string>()): number => {
    if (!r.parent || !byId.has(r.parent) || seen.has(r.id)) return 0;
    seen.add(r.id);
    return 1 + depth(byId.get(r.parent)!, seen);
  };
  return [...records].sort((a, b) => depth(a) - depth(b) || a.startTime - b.startTime);
}

export async function syncRuns(target: string, to: NamedSink, opts: SyncOptions = {}): Promise<SyncResult[]> {
  const log = opts.log ?? (() => undefined);
  const warn = opts.warn ?? ((l: string) => process.stderr.write(`warning: ${l}\n`));
  const { sink, name: sinkName } = to;
  if (!sink.sync) {
    throw new AblateError('sync.unsupported', `the '${sinkName}' tracker cannot replay runs`, { hint: 'pass --to with a tracker that supports sync (e.g. mlflow)' });
  }
  if (!statSync(target, { throwIfNoEntry: false })) throw new AblateError('sync.not-found', `${target} does not exist`, { where: { file: target } });
  // A sweep folder brings its cells along (they live beside it).
  const dirs = withSweepCells(findRunDirs(target, warn));
  if (dirs.length === 0) {
    throw new AblateError('sync.no-runs', `no run records under ${target}`, {
      where: { file: target },
      hint: 'pass a run folder (one holding tracking/record.jsonl) or a folder of runs',
    });
  }
  const results: SyncResult[] = [];
  for (const rec of parentsFirst(dirs.map((d) => readRecord(d)))) {
    if (rec.status === 'RUNNING') {
      if (writerAlive(rec)) {
        log(`skip ${rec.name}: still running (pid ${rec.pid})`);
        results.push({ runDir: rec.runDir, name: rec.name, outcome: 'skipped-running', requests: 0 });
        continue;
      }
      // The process that wrote it died without ending the run: close the record as KILLED.
      const tags: TagsEvent = { t: 'tags', tags: { 'ablate.incomplete': 'true' } };
      const end: EndEvent = { t: 'end', status: 'KILLED', time: Date.now() };
      appendFileSync(recordPaths(rec.runDir).file, `${JSON.stringify(tags)}\n${JSON.stringify(end)}\n`);
      warn(`${rec.name}: its process ended without finishing the run; synced as KILLED`);
    }
    try {
      const r = await sink.sync(rec.runDir);
      results.push({ runDir: rec.runDir, name: rec.name, outcome: r.outcome, requests: r.requests ?? 0, ...(r.detail ? { detail: r.detail } : {}) });
      log(`${r.outcome === 'up-to-date' ? 'up to date' : 'synced'}: ${rec.name}${r.detail ? ` -> ${r.detail}` : ''}${r.requests !== undefined ? ` (${r.requests} requests)` : ''}`);
    } catch (e) {
      // One run's failure (a server error, a damaged state file) does not stop the others.
      const msg = e instanceof Error ? e.message : String(e);
      const hint = e instanceof AblateError && e.hint ? ` (${e.hint})` : '';
      results.push({ runDir: rec.runDir, name: rec.name, outcome: 'failed', requests: 0, error: msg + hint });
      warn(`${rec.name}: ${msg}${hint}`);
    }
  }
  return results;
}
