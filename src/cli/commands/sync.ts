/**
 * `ablate sync <run or folder> [--to <tracker>] [--tracking-uri URI]`: replays finished local run
 * records into a tracker (default: the MLflow one). Safe to repeat: the tracker recognises runs it
 * already has.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { resolveRunFolder } from '../latest.js';
import { registryFor } from '../../plugin/bootstrap.js';
import type { Logger } from '../../plugin/define.js';
import { syncRuns, type SyncResult } from '../../tracking/sync.js';
import { buildSink } from '../../tracking/standalone.js';
import { AblateError } from '../../errors.js';

export interface SyncCommandOptions {
  /** Tracker type to replay into (default: mlflow). */
  to?: string;
  trackingUri?: string;
  /** A plugin module offering the tracker (a user's own sink). */
  plugin?: string[];
  /** More options of the tracker, `key=value`. */
  option?: string[];
  json?: boolean;
}

export async function runSync(target: string, opts: SyncCommandOptions, out: (line: string) => void = console.log): Promise<SyncResult[]> {
  target = resolveRunFolder(target);
  const type = opts.to ?? 'mlflow';
  const registry = await registryFor((opts.plugin ?? []).map((spec) => ({ spec, baseDir: process.cwd() })));
  const warn = (l: string) => process.stderr.write(`warning: ${l}\n`);
  const log: Logger = { info: opts.json ? () => undefined : out, warn, debug: () => undefined };
  const sink = await buildSink(registry, type, { ...optionPairs(opts.option ?? []), ...(opts.trackingUri ? { tracking_uri: opts.trackingUri } : {}) }, log);
  const t0 = performance.now();
  let results: SyncResult[];
  try {
    results = await syncRuns(target, sink, { log: opts.json ? undefined : out, warn });
  } finally {
    await sink.sink.close?.();
  }
  const ms = performance.now() - t0;
  if (opts.json) out(JSON.stringify({ to: type, ms: Math.round(ms), runs: results }, null, 2));
  else {
    const n = (o: SyncResult['outcome']) => results.filter((r) => r.outcome === o).length;
    out(`${results.length} run(s) in ${(ms / 1000).toFixed(1)} s: ${n('synced')} synced, ${n('up-to-date')} up to date, ${n('skipped-running')} still running, ${n('failed')} failed -> ${type}`);
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length > 0) {
    const first = failed[0]!;
    throw new AblateError('sync.failed', `${failed.length} of ${results.length} run(s) could not be synced to ${type}; first: ${first.name}: ${first.error}`, {
      where: { file: path.relative(process.cwd(), first.runDir) || first.runDir },
      hint: 'the local records are untouched: run the same command again once the destination is reachable',
      exitCode: 1,
    });
  }
  return results;
}

function optionPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new AblateError('cli.bad-option', `--option '${p}' is not key=value`, { hint: 'e.g. --option flush_timeout_s=120' });
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('sync')
    .description('replay local run records (a run folder, or a folder of runs such as a sweep) into a tracker, MLflow by default; safe to repeat')
    .argument('<path>', 'run folder or folder of runs')
    .option('--to <tracker>', 'tracker type to replay into', 'mlflow')
    .option('--tracking-uri <uri>', "the tracker's server URL (its tracking_uri option; MLflow's default: $MLFLOW_TRACKING_URI)")
    .option('--plugin <module...>', 'plugin module(s) offering the tracker, for a tracker of your own')
    .option('--option <key=value...>', "the tracker's other options (numbers and booleans are read as such)")
    .option('--json', 'print a JSON summary')
    .action(async (target: string, opts: SyncCommandOptions) => {
      await runSync(target, opts);
    });
}
