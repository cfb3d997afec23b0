/** Writes one benchmark's section into bench/RESULTS.md: replaces the section under `heading`, or appends it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

/** `heading` is the section's first line, e.g. `## Config`; `section` starts with it. */
export function writeResultsSection(heading: string, section: string): void {
  let text = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : '# Benchmarks\n\n';
  const start = text.indexOf(`${heading}\n`);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = text.slice(0, start) + section + (next >= 0 ? text.slice(next + 1) : '');
  } else text = `${text.trimEnd()}\n\n${section}`;
  writeFileSync(RESULTS_FILE, text);
  console.log(`updated ${path.relative(process.cwd(), RESULTS_FILE)}`);
}
