/** Writes one benchmark's section into bench/RESULTS.md: replaces the section under `heading`, or appends it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

/**
 * `heading` is the section's first line, e.g. `## Config`; `section` starts with it. The section
 * ends the file or is followed by one blank line and the next section, whatever it ends with.
 */
export function writeResultsSection(heading: string, section: string): void {
  let text = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : '# Benchmarks\n\n';
  const body = `${section.trimEnd()}\n`;
  // Headings are matched at the start of a line (the file starts with its own title).
  const at = text.indexOf(`\n${heading}\n`);
  if (at >= 0) {
    const next = text.indexOf('\n## ', at + 1);
    text = text.slice(0, at + 1) + body + (next >= 0 ? `\n${text.slice(next + 1)}` : '');
  } else text = `${text.trimEnd()}\n\n${body}`;
  writeFileSync(RESULTS_FILE, text);
  console.log(`updated ${path.relative(process.cwd(), RESULTS_FILE)}`);
}
