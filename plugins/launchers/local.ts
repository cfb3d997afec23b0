/**
 * The `local` launcher: sweep cells on this machine. With `parallel: 1` the cells run one after
 * another inside the current process (no start-up cost, one tfjs backend); with `parallel: N` it
 * keeps N child processes `ablate run <resolved cell file>` busy, prefixing their output with the
 * cell name. A failed cell never stops the others. The cells run under this process, so `submit`
 * returns `done`; `status` and `cancel` know the cells of this process only (a later process reads
 * the run folders).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { definePlugin, packageRoot, type LaunchCell, type LaunchCellStatus, type LaunchResult, type Launcher, type Logger } from '../../src/index.js';

interface LocalOptions {
  parallel: number;
}

const ablateBin = path.join(packageRoot(), 'bin', 'ablate.js');

function statusOfExit(code: number | null, signal: NodeJS.Signals | null): LaunchResult['status'] {
  if (code === 0) return 'FINISHED';
  if (code === 130 || signal === 'SIGINT' || signal === 'SIGTERM') return 'KILLED';
  return 'FAILED';
}

/**
 * The node arguments that run the CLI: `bin/ablate.js`, or ABLATE_RUN_ENTRY (a JSON list of node
 * arguments, e.g. ["--import", "tsx", "src/cli/entry.ts"]) to run it from source (tests, development).
 */
export function ablateEntry(bin = ablateBin): string[] {
  return process.env.ABLATE_RUN_ENTRY ? (JSON.parse(process.env.ABLATE_RUN_ENTRY) as string[]) : [bin];
}

/** Runs one cell as `node bin/ablate.js run <file> …`, echoing its output line by line. */
export function runChild(cell: LaunchCell, log: Logger, signal?: AbortSignal, bin = ablateBin): Promise<LaunchResult> {
  return new Promise((resolve) => {
    const entry = ablateEntry(bin);
    const args = [...entry, 'run', cell.resolvedFile, ...(cell.runDir ? ['--run-dir', cell.runDir] : []), ...(cell.runArgs ?? [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ABLATE_CHILD: '1' } });
    // Stopping = what Ctrl-C does to `ablate run`: finish the iteration, checkpoint, exit KILLED.
    const stop = () => child.kill('SIGINT');
    signal?.addEventListener('abort', stop, { once: true });
    let tail = '';
    const echo = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log.info(`[${cell.name}] ${line}`);
    };
    child.stdout.on('data', echo);
    child.stderr.on('data', echo);
    child.on('error', (e) => resolve({ name: cell.name, status: 'FAILED', error: `could not start ablate run: ${e.message}` }));
    child.on('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', stop);
      const status = statusOfExit(code, exitSignal);
      const result: LaunchResult = { name: cell.name, status, ...(cell.runDir ? { runDir: cell.runDir } : {}) };
      const resultFile = cell.runDir ? path.join(cell.runDir, 'result.json') : undefined;
      if (resultFile && existsSync(resultFile)) {
        const r = JSON.parse(readFileSync(resultFile, 'utf8')) as { status?: LaunchResult['status']; error?: string };
        if (r.status) result.status = r.status;
        if (r.error) result.error = r.error;
      } else if (status !== 'FINISHED') {
        result.error = `ablate run exited with ${exitSignal ?? `code ${code}`}: ${tail.trim().split('\n').slice(-3).join(' / ')}`;
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
    // The cells of this process: their state and a stop switch each.
    const cells = new Map<string, { state: LaunchCellStatus['state']; stop: AbortController }>();
    const notStarted = (name: string): LaunchResult => ({ name, status: 'KILLED', error: 'not started (sweep interrupted)' });
    return {
      async submit(launchCells, launch) {
        const stops: AbortController[] = [];
        for (const c of launchCells) {
          const stop = new AbortController();
          stops.push(stop);
          cells.set(c.name, { state: 'PENDING', stop });
        }
        // Stopping the sweep stops every cell: one listener for all of them (one per cell would
        // trip node's MaxListenersExceededWarning on any sweep of more than 10 cells).
        const stopAll = () => stops.forEach((s) => s.abort());
        if (launch.signal?.aborted) stopAll();
        else launch.signal?.addEventListener('abort', stopAll, { once: true });
        const runOne = async (cell: LaunchCell): Promise<LaunchResult> => {
          const entry = cells.get(cell.name)!;
          if (entry.stop.signal.aborted) {
            entry.state = 'ENDED';
            return notStarted(cell.name);
          }
          entry.state = 'RUNNING';
          try {
            return parallel === 1 ? await launch.runInProcess(cell, entry.stop.signal) : await runChild(cell, ctx.log, entry.stop.signal);
          } catch (e) {
            return { name: cell.name, status: 'FAILED', error: (e as Error).message };
          } finally {
            entry.state = 'ENDED';
          }
        };
        const run = async (): Promise<LaunchResult[]> => {
          const results: LaunchResult[] = new Array(launchCells.length);
          let next = 0;
          let interrupted = false;
          const worker = async () => {
            while (next < launchCells.length) {
              const i = next++;
              const cell = launchCells[i]!;
              if (interrupted) {
                cells.get(cell.name)!.state = 'ENDED';
                results[i] = notStarted(cell.name);
                continue;
              }
              if (parallel > 1) ctx.log.info(`starting cell ${cell.name} (${i + 1}/${launchCells.length})`);
              results[i] = await runOne(cell);
              // Ctrl-C stops the sweep, not just the current cell; a cancelled cell stops only itself.
              if (results[i]!.status === 'KILLED' && launch.signal?.aborted) interrupted = true;
            }
          };
          await Promise.all(Array.from({ length: Math.min(parallel, launchCells.length) }, worker));
          launch.signal?.removeEventListener('abort', stopAll);
          return results;
        };
        return { handles: launchCells.map((c, i) => ({ name: c.name, id: `local:${process.pid}:${i}` })), done: run() };
      },
      async status(handles) {
        return handles.map((h) => ({ name: h.name, state: cells.get(h.name)?.state ?? 'UNKNOWN' }));
      },
      async cancel(handles) {
        for (const h of handles) cells.get(h.name)?.stop.abort();
      },
    };
  },
});
