/**
 * `ablate sweep <exp>`: runs a sweep's cells (the execution lives in `./sweep-run.ts`). With
 * `--dry-run` it expands the sweep, resolves and validates every cell (all errors of all cells at
 * once) and prints each cell's name, run identity and diff, running nothing.
 */
import { Option, type Command } from 'commander';
import { collect, withSet, print } from '../options.js';

export function register(program: Command): void {
  const sweep = withSet(program.command('sweep').description("run a sweep's cells (with --dry-run: list the validated cells, hashes and diffs)").argument('<experiment>', 'experiment file with a sweep: block'))
    .option('-n, --dry-run', 'resolve and validate every cell, print the plan, run nothing')
    .option('--json', 'JSON output')
    .option('--resume <sweep folder>', 'complete an earlier run of this sweep: keep finished cells, continue the others from their checkpoints')
    .option('--launcher <type>', "run the cells with this launcher (its defaults) instead of the configured one; the cells and their hashes stay the same (e.g. try a Slurm sweep here: --launcher local)")
    .option('--wait', 'with a launcher that submits (slurm): block until every cell has ended, showing their states')
    .addOption(new Option('--monitor').hideHelp())
    .allowUnknownOption(false)
    .action(async (file: string, opts: { set: string[]; json?: boolean; dryRun?: boolean; resume?: string; wait?: boolean; launcher?: string; monitor?: boolean }) => {
      if (!opts.dryRun) {
        // A literal dynamic import: the heavy engine loads only when a sweep runs, and a broken
        // module fails loudly with its own error instead of being mistaken for a missing feature.
        const { runSweep } = await import('./sweep-run.js');
        await runSweep(file, { set: opts.set, json: opts.json, ...(opts.resume ? { resume: opts.resume } : {}), ...(opts.wait ? { wait: true } : {}), ...(opts.launcher ? { launcher: opts.launcher } : {}), ...(opts.monitor ? { monitor: true } : {}) });
        return;
      }
      const { expandSweep } = await import('../../config/load.js');
      const { formatValue } = await import('../../config/sweep.js');
      const { rel } = await import('../format.js');
      const t0 = performance.now();
      const registry = await (await import('../../plugin/bootstrap.js')).schemaRegistry();
      const cells = await expandSweep(file, { set: opts.set, registry });
      const ms = performance.now() - t0;
      if (opts.json) {
        print(JSON.stringify({ file: rel(file), cells: cells.map((c) => ({ name: c.name, hash: c.experiment.hash, labels: c.labels, diff: c.diff })) }, null, 2));
        return;
      }
      const width = Math.max(...cells.map((c) => c.name.length));
      for (const c of cells) {
        const diff = Object.entries(c.diff)
          // Grid values are in the name already; show what else the cell changes.
          .filter(([k]) => !(k in c.labels) && !Object.keys(c.labels).some((l) => k.endsWith(`.${l}`)))
          .map(([k, v]) => `${k}=${formatValue(v)}`)
          .join(' ');
        print(`${c.name.padEnd(width)}  ${c.experiment.hash.slice(0, 12)}${diff ? `  ${diff}` : ''}`);
      }
      // Identical cells never get here: expandSweep reports them as errors (src/config/sweep-duplicates.ts).
      print(`${cells.length} cell(s) valid in ${ms.toFixed(0)} ms`);
    });
  sweep
    .command('status')
    .description("one row per cell of a sweep folder: state (queue or result), iteration, metrics, requeues, log; failed cells with their log's tail")
    .argument('<sweep folder>', 'the sweep-<name>-<hash> folder `ablate sweep` printed')
    .option('-w, --watch', 'refresh until every cell has ended')
    .option('--interval <seconds>', 'refresh interval for --watch', Number, 5)
    .option('--json', 'JSON output')
    .action(async (dir: string, opts: { watch?: boolean; json?: boolean; interval?: number }) => {
      const { sweepStatus } = await import('./sweep-follow.js');
      await sweepStatus(dir, opts);
    });
  sweep
    .command('end')
    .description("end the sweep's parent run (summary, report, status) once every cell has ended; safe to repeat (`status` does it too; each cluster task runs it as it ends)")
    .argument('<sweep folder>', 'the sweep-<name>-<hash> folder `ablate sweep` printed')
    .addOption(new Option('--ended-cell <name>', 'a cell whose task has ended for good (what a cluster task says of itself)').argParser(collect).default([]).hideHelp())
    .action(async (dir: string, opts: { endedCell: string[] }) => {
      const { sweepEnd } = await import('./sweep-follow.js');
      await sweepEnd(dir, opts);
    });
  sweep
    .command('cancel')
    .description('stop the cells of a sweep folder (running cells checkpoint first and end KILLED; --resume continues them)')
    .argument('<sweep folder>', 'the sweep-<name>-<hash> folder `ablate sweep` printed')
    .option('--cell <name>', 'only this cell (repeatable)', collect, [])
    .action(async (dir: string, opts: { cell: string[] }) => {
      const { sweepCancel } = await import('./sweep-follow.js');
      await sweepCancel(dir, opts);
    });
}
