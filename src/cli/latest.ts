/**
 * `latest` wherever a run folder is accepted: `latest` is the newest run under `runs/`,
 * `<folder>/latest` the newest below that folder (e.g. `runs/quickstart/latest`). A path that
 * exists is taken as it is, even if it is called `latest`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { findRunDirs } from '../tracking/sync.js';
import { readRecord } from '../tracking/record.js';

/** Which runs count: a single run (not a sweep parent), a sweep parent, or either. */
export type RunKind = 'run' | 'sweep' | 'any';

export function resolveLatest(arg: string, kind: RunKind = 'any'): string {
  const m = /^(?:(.*)[/\\])?latest$/.exec(arg);
  if (!m || existsSync(arg)) return arg;
  const root = path.resolve(m[1] ?? 'runs');
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
    throw new AblateError('cli.no-latest', `'${arg}': no ${kind === 'sweep' ? 'sweep' : 'run'} under ${path.relative(process.cwd(), root) || root}`, {
      hint: 'latest is the newest run folder under runs/ (or under the folder before /latest); `ablate runs` lists them',
    });
  }
  return best.dir;
}
