/**
 * The `local` launcher: sweep cells on this machine. With `parallel: 1` the cells run one after
 * another inside the current process (no start-up cost, one tfjs backend); with `parallel: N` it
 * keeps N child processes `ablate run <resolved cell file>` busy, prefixing their output with the
 * cell name. A failed cell never stops the others.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin, type LaunchCell, type LaunchResult, type Launcher, type Logger } from '../../src/index.js';

interface LocalOptions {
  parallel: number;
}

/** `bin/ablate.js` of this package, found upwards from here (works from plugins/ and dist/plugins/). */
function findAblateBin(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = path.join(dir, 'bin', 'ablate.js');
    if (existsSync(bin) && existsSync(path.join(dir, 'package.json'))) return bin;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve('bin', 'ablate.js');
    dir = up;
  }
}

const ablateBin = findAblateBin();

function statusOfExit(code: number | null, signal: NodeJS.Signals | null): LaunchResult['status'] {
  if (code === 0) return 'FINISHED';
  if (code === 130 || signal === 'SIGINT' || signal === 'SIGTERM') return 'KILLED';
  return 'FAILED';
}

/** Runs one cell as `node bin/ablate.js run <file> …`, echoing its output line by line. */
export function runChild(cell: LaunchCell, log: Logger, bin = ablateBin): Promise<LaunchResult> {
  return new Promise((resolve) => {
    // ABLATE_RUN_ENTRY (a JSON list of node arguments, e.g. ["--import", "tsx", "src/cli/entry.ts"])
    // runs the CLI from source instead of the compiled executable (tests, development).
    const entry = process.env.ABLATE_RUN_ENTRY ? (JSON.parse(process.env.ABLATE_RUN_ENTRY) as string[]) : [bin];
    const args = [...entry, 'run', cell.resolvedFile, ...(cell.runDir ? ['--run-dir', cell.runDir] : []), ...(cell.runArgs ?? [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ABLATE_CHILD: '1' } });
    let tail = '';
    const echo = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log.info(`[${cell.name}] ${line}`);
    };
    child.stdout.on('data', echo);
    child.stderr.on('data', echo);
    child.on('error', (e) => resolve({ name: cell.name, status: 'FAILED', error: `could not start ablate run: ${e.message}` }));
    child.on('close', (code, signal) => {
      const status = statusOfExit(code, signal);
      const result: LaunchResult = { name: cell.name, status, ...(cell.runDir ? { runDir: cell.runDir } : {}) };
      const resultFile = cell.runDir ? path.join(cell.runDir, 'result.json') : undefined;
      if (resultFile && existsSync(resultFile)) {
        const r = JSON.parse(readFileSync(resultFile, 'utf8')) as { status?: LaunchResult['status']; error?: string };
        if (r.status) result.status = r.status;
        if (r.error) result.error = r.error;
      } else if (status !== 'FINISHED') {
        result.error = `ablate run exited with ${signal ?? `code ${code}`}: ${tail.trim().split('\n').slice(-3).join(' / ')}`;
      }
      resolve(result);
    });
  });
}

export const localLauncher = definePlugin<'launcher', LocalOptions>({
  kind: 'launcher',
  type: 'local',
  description: 'Runs sweep cells on this machine: in this process one after another, or in N parallel `ablate run` child processes.',
  options: {
    type: 'object',
    properties: {
      parallel: {
        type: 'integer',
        minimum: 1,
        default: 1,
        description: 'Cells running at once. 1 = one after another in this process; N > 1 = N child processes (each uses its own tfjs backend and threads).',
      },
    },
    additionalProperties: false,
  },
  create(options, ctx): Launcher {
    const parallel = Math.max(1, options.parallel ?? 1);
    return {
      async launch(cells, runInProcess) {
        const results: LaunchResult[] = new Array(cells.length);
        if (parallel === 1) {
          for (const [i, cell] of cells.entries()) {
            try {
              results[i] = await runInProcess(cell);
            } catch (e) {
              results[i] = { name: cell.name, status: 'FAILED', error: (e as Error).message };
            }
            if (results[i]!.status === 'KILLED') {
              // Ctrl-C stops the sweep, not just the current cell.
              for (let j = i + 1; j < cells.length; j++) results[j] = { name: cells[j]!.name, status: 'KILLED', error: 'not started (sweep interrupted)' };
              break;
            }
          }
          return results;
        }
        let next = 0;
        let interrupted = false;
        const worker = async () => {
          while (next < cells.length) {
            const i = next++;
            const cell = cells[i]!;
            if (interrupted) {
              results[i] = { name: cell.name, status: 'KILLED', error: 'not started (sweep interrupted)' };
              continue;
            }
            ctx.log.info(`starting cell ${cell.name} (${i + 1}/${cells.length})`);
            results[i] = await runChild(cell, ctx.log);
            if (results[i]!.status === 'KILLED') interrupted = true;
          }
        };
        await Promise.all(Array.from({ length: Math.min(parallel, cells.length) }, worker));
        return results;
      },
    };
  },
});
