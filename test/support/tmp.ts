/** Temporary folders for tests: fresh, named after what they hold, removed when the process exits. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  // Keep them for a post-mortem with ABLATE_KEEP_TMP=1.
  if (process.env.ABLATE_KEEP_TMP === '1') return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder `ablate-<label>-XXXXXX` under the OS temp folder. */
export function tmpDir(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ablate-${label}-`));
  made.push(dir);
  return dir;
}

/** Writes `files` (relative path → text) into a fresh temp folder and returns its path. */
export function writeTree(files: Record<string, string>, label = 'tree'): string {
  const dir = tmpDir(label);
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(dir, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return dir;
}
