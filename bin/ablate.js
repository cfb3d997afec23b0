#!/usr/bin/env node
// The `ablate` executable: runs the compiled CLI (built by `npm run build`, or on install by `prepare`).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'src', 'cli', 'main.js');

/** Newest modification time of the TypeScript files below `dir` (0 when there are none). */
function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

// In a checkout (sources beside dist/), an edited plugin or core file would otherwise run as its
// old compiled self without a word: say so. (~200 stats, a few milliseconds.)
if (existsSync(compiled) && existsSync(path.join(root, 'src'))) {
  const built = statSync(compiled).mtimeMs;
  const edited = Math.max(newestSource(path.join(root, 'src')), newestSource(path.join(root, 'plugins')));
  if (edited > built) console.error('ablate: warning: src/ or plugins/ changed since the CLI was compiled; run `npm run build` to use the changes');
}

let cli;
try {
  cli = await import(compiled);
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('main.js')) {
    console.error('ablate: the CLI is not built yet: run `npm run build` in the ablate folder');
    process.exit(1);
  }
  throw e;
}
process.exitCode = await cli.main(process.argv);
