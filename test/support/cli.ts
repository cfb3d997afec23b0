/**
 * Running `ablate` in a child process, two ways:
 *  - `ablate(args)`: the real executable (`bin/ablate.js` → `dist/`), as a user runs it.
 *    `ensureBuilt()` builds dist/ with tsc when any source is newer than the compiled CLI; a type
 *    error elsewhere in the tree does not stop tsc from emitting, so the CLI is still tested (the
 *    typecheck is a separate `npm run typecheck`).
 *  - `ablateFromSource(args, cwd)`: the CLI from the TypeScript sources through tsx (no build), for
 *    tests that signal the process or let a sweep start children (`ABLATE_RUN_ENTRY=cliEntryFromSource`).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const tsx = createRequire(import.meta.url).resolve('tsx');

/** Node arguments that run the CLI from source (what `ABLATE_RUN_ENTRY` takes, as JSON). */
export const cliEntryFromSource: readonly string[] = ['--import', tsx, path.join(root, 'test/support/cli-entry.ts')];
const compiled = path.join(root, 'dist/src/cli/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const stale = !existsSync(compiled) || Math.max(newestSource(path.join(root, 'src')), newestSource(path.join(root, 'plugins'))) > statSync(compiled).mtimeMs;
  if (!stale) return;
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (!existsSync(compiled)) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
}

/** Runs `ablate <args>` in `cwd` and returns its exit code and output. */
export function ablate(args: string[], cwd = root, env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [path.join(root, 'bin/ablate.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ablate <args>` from source in `cwd`. `onStderr` sees the whole stderr so far after each
 * chunk, with a function that sends the child SIGINT (Ctrl-C).
 */
export function ablateFromSource(args: string[], cwd: string, onStderr?: (text: string, interrupt: () => void) => void): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cliEntryFromSource, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, () => child.kill('SIGINT'));
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
