/**
 * `ablate sync <run or folder> [--tracking-uri URI]`: replays finished local run records to an
 * MLflow server. Safe to repeat: runs already there are recognised by their `ablate.run_id` tag.
 */
import type { Command } from 'commander';
import { resolveTrackingUri } from '../../tracking/trackers.js';
import { syncRuns, type SyncResult } from '../../tracking/sync.js';
import { AblateError } from '../../errors.js';

export interface SyncCommandOptions {
  trackingUri?: string;
  json?: boolean;
}

export async function runSync(target: string, opts: SyncCommandOptions, out: (line: string) => void = console.log): Promise<SyncResult[]> {
  const trackingUri = resolveTrackingUri(opts.trackingUri);
  const t0 = performance.now();
  const results = await syncRuns(target, { trackingUri, log: opts.json ? undefined : out });
  const ms = performance.now() - t0;
  if (opts.json) out(JSON.stringify({ trackingUri, ms: Math.round(ms), runs: results }, null, 2));
  else {
    const n = (o: SyncResult['outcome']) => results.filter((r) => r.outcome === o).length;
    out(`${results.length} run(s) in ${(ms / 1000).toFixed(1)} s: ${n('shipped')} synced, ${n('up-to-date')} up to date, ${n('skipped-running')} still running, ${n('failed')} failed -> ${trackingUri}`);
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new AblateError('sync.failed', `${failed.length} of ${results.length} run(s) could not be synced; first: ${first.name}: ${first.error}`, {
      where: { file: first.runDir },
      hint: 'the local records are untouched: run the same command again once the server is reachable',
      exitCode: 1,
    });
  }
  return results;
}

export function register(program: Command): void {
  program
    .command('sync')
    .description('send local run records (a run folder, or a folder of runs such as a sweep) to an MLflow server; safe to repeat')
    .argument('<path>', 'run folder or folder of runs')
    .option('--tracking-uri <uri>', 'MLflow server URL (default: $MLFLOW_TRACKING_URI)')
    .option('--json', 'print a JSON summary')
    .action(async (target: string, opts: SyncCommandOptions) => {
      await runSync(target, opts);
    });
}
