/**
 * The names a run folder goes by wherever one is accepted:
 *  - `latest`: the newest run under `runs/`; `<folder>/latest` the newest below that folder
 *    (e.g. `runs/quickstart/latest`);
 *  - a run id (32 hex digits): ablate's own (the record's id, the tag `ablate.run_id` in a tracker)
 *    or a tracker's (MLflow's run id, from the state its sink keeps in the run's `tracking/`
 *    folder), looked up among the run folders under `runs/`, or under `<folder>/<id>`.
 * A path that exists is taken as it is, even if it is called `latest`.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { findRunDirs } from '../tracking/sync.js';
import { readRecord, recordPaths } from '../tracking/record.js';

/** Which runs count: a single run (not a sweep parent), a sweep parent, or either. */
export type RunKind = 'run' | 'sweep' | 'any';

const RUN_ID = /^[0-9a-f]{32}$/i;

/**
 * The run folder `arg` names. `ifUnknownId: 'keep'` returns an id that no local run has as it is
 * (a command that can ask a tracking server instead, like `ablate report`); otherwise it is an error.
 */
export function resolveRunFolder(arg: string, kind: RunKind = 'any', opts: { ifUnknownId?: 'keep' | 'fail' } = {}): string {
  if (existsSync(arg)) return arg;
  const m = /^(?:(.*)[/\\])?([^/\\]+)$/.exec(arg);
  const last = m?.[2] ?? '';
  const root = path.resolve(m?.[1] ?? 'runs');
  if (last === 'latest') return newest(arg, root, kind);
  if (RUN_ID.test(last)) {
    const found = existsSync(root) ? findRunDirs(root).find((dir) => idsOf(dir).has(last.toLowerCase())) : undefined;
    if (found) return found;
    if (opts.ifUnknownId === 'keep') return arg;
    throw new AblateError('cli.unknown-run-id', `'${arg}': no run folder under ${shown(root)} has the run id ${last}`, {
      hint: "ids are ablate's run id or a tracker's (MLflow's) as recorded in each run's tracking/ folder; for runs elsewhere pass <folder>/<id>, or `ablate runs --dir <folder>` to list them",
    });
  }
  return arg;
}

function shown(dir: string): string {
  return path.relative(process.cwd(), dir) || dir;
}

function newest(arg: string, root: string, kind: RunKind): string {
  let best: { dir: string; start: number } | undefined;
  for (const dir of existsSync(root) ? findRunDirs(root) : []) {
    let rec;
    try {
      rec = readRecord(dir);
    } catch {
      continue;
    }
    const isSweep = rec.tags['ablate.sweep'] === 'parent';
    if ((kind === 'run' && isSweep) || (kind === 'sweep' && !isSweep)) continue;
    if (!best || rec.startTime > best.start) best = { dir, start: rec.startTime };
  }
  if (!best) {
    throw new AblateError('cli.no-latest', `'${arg}': no ${kind === 'sweep' ? 'sweep' : 'run'} under ${shown(root)}`, {
      hint: 'latest is the newest run folder under runs/ (or under the folder before /latest); `ablate runs` lists them',
    });
  }
  return best.dir;
}

/**
 * The ids a run folder is known by, lower-cased: the record's own (its first line, the start
 * event) and every `runId` of a JSON file a sink keeps beside the record (the MLflow sink's
 * `shipped-<server>.json`, one per server).
 */
function idsOf(runDir: string): Set<string> {
  const ids = new Set<string>();
  const { dir, file } = recordPaths(runDir);
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const nl = buf.subarray(0, n).indexOf(0x0a);
      const start = JSON.parse(buf.subarray(0, nl > 0 ? nl : n).toString('utf8')) as { t?: string; id?: unknown };
      if (start.t === 'start' && typeof start.id === 'string') ids.add(start.id.toLowerCase());
    } finally {
      closeSync(fd);
    }
  } catch {
    // An unreadable record names no run.
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return ids;
  }
  for (const f of entries) {
    try {
      const state = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { runId?: unknown };
      if (typeof state.runId === 'string') ids.add(state.runId.toLowerCase());
    } catch {
      // Not a sink's state file.
    }
  }
  return ids;
}
