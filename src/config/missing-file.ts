/**
 * An experiment path that names no file: the error says so and, when a YAML file nearby has a
 * close name (a typo, a missing folder level), which one was probably meant.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { AblateError } from '../errors.js';

/** YAML files at most `depth` folders below `dir` (hidden folders and node_modules skipped). */
function yamlFiles(dir: string, depth: number): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...yamlFiles(p, depth - 1));
    else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
  }
  return out;
}

/** Throws a located error with a did-you-mean when `file` does not exist; returns otherwise. */
export function assertExperimentFile(file: string): void {
  const abs = path.resolve(file);
  if (existsSync(abs)) return;
  // The nearest folder that exists, and the YAML files below it: where the typo most likely is.
  let dir = path.dirname(abs);
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  if (!statSync(dir).isDirectory()) dir = path.dirname(dir);
  const shown = (p: string) => path.relative(process.cwd(), p) || p;
  const want = shown(abs);
  const candidates = dir === path.parse(dir).root ? [] : yamlFiles(dir, 3).map(shown);
  const best = candidates.length > 0 ? closest(want, candidates) : undefined;
  const near = best !== undefined && distance(want, best) <= Math.max(3, Math.floor(want.length / 3));
  throw new AblateError('config.file-not-found', `experiment file not found: ${want}`, {
    where: { file: abs },
    hint: near ? `did you mean ${best}?` : `no such file; experiments are YAML files (e.g. under experiments/)`,
  });
}
