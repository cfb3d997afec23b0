/**
 * `ablate eval <run folder | checkpoint> [--set k=v …] [--limit N] [--network NAME] [--json]`:
 * re-scores a trained network (the model, or the one `--network` names) with the run's own resolved config (overrides allowed, e.g. another evaluation split or
 * metric), writing metrics.json and the metric artifacts next to the run.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { resolveRunFolder } from '../latest.js';
import { collect, withSet } from '../options.js';
import { existsSync } from 'node:fs';
import { AblateError } from '../../errors.js';
import type { EvalOutcome } from '../../engine/eval-run.js';

export interface EvalCommandOptions {
  set?: string[];
  limit?: string;
  out?: string;
  json?: boolean;
  network?: string;
}

export async function evalCommand(target: string, opts: EvalCommandOptions, out: (line: string) => void = console.log): Promise<EvalOutcome> {
  // Heavy modules load only when the command runs (see commands/index.ts).
  const { loadExperiment } = await import('../../config/index.js');
  const { findCheckpoint, runDirOf } = await import('../../engine/checkpoint.js');
  const { evaluateCheckpoint } = await import('../../engine/eval-run.js');
  const { stderrLogger } = await import('../../logger.js');
  const { readRunMeta } = await import('../../engine/run-dir.js');
  target = resolveRunFolder(target, 'run');
  const checkpoint = findCheckpoint(target);
  const runDir = runDirOf(checkpoint);
  const configFile = path.join(runDir, 'config.yaml');
  if (!existsSync(configFile)) throw new AblateError('eval.no-config', `${runDir} has no config.yaml, so the model cannot be rebuilt`, { where: { file: runDir }, hint: 'ablate eval takes a run folder written by ablate run (or a checkpoint inside one)' });
  const resolved = await loadExperiment(configFile, { set: opts.set ?? [] });
  const baseDir = readRunMeta(runDir)?.baseDir ?? resolved.baseDir;
  let limit: number | null | undefined;
  if (opts.limit !== undefined) {
    limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new AblateError('cli.bad-limit', `--limit '${opts.limit}' is not a positive integer`);
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = path.resolve(opts.out ?? path.join(runDir, 'eval', `ckpt-${String(checkpoint.iteration).padStart(7, '0')}-${stamp}`));
  const r = await evaluateCheckpoint({ ...resolved, baseDir }, checkpoint, { ...(limit !== undefined ? { limit } : {}), ...(opts.network ? { network: opts.network } : {}), outDir, log: stderrLogger });
  if (opts.json) {
    out(JSON.stringify({ checkpoint: r.checkpoint, iteration: r.iteration, network: r.network, images: r.images, seconds: r.seconds, scalars: r.scalars, outDir: r.outDir }, null, 2));
    return r;
  }
  out(`evaluated ${r.network === 'model' ? '' : `'${r.network}' of `}${path.relative(process.cwd(), r.checkpoint)} (iteration ${r.iteration}) on ${r.images} images in ${r.seconds.toFixed(1)} s`);
  const main = Object.entries(r.scalars).filter(([k]) => !k.includes('/'));
  for (const [k, v] of main) out(`  ${k.padEnd(16)} ${v.toFixed(4)}`);
  const perClass = Object.entries(r.scalars).filter(([k]) => k.includes('/'));
  if (perClass.length > 0) {
    out('  per class:');
    for (const [k, v] of perClass) out(`    ${k.replace(/^.*\//, '').padEnd(18)} ${v.toFixed(4)}`);
  }
  out(`results: ${path.relative(process.cwd(), path.join(r.outDir, 'metrics.json'))}`);
  return r;
}

export function register(program: Command): void {
  withSet(program.command('eval')
    .description("evaluate a run's checkpoint (latest by default) with the run's config and metrics")
    .argument('<run>', 'run folder or checkpoint file (checkpoints/iter-NNNNNNN.safetensors)'))
    .option('--limit <n>', 'evaluate the first N images only')
    .option('--network <name>', "which network to score: a slot holding one or a trainer's own network (default: evaluation.network, i.e. model)")
    .option('--out <dir>', 'where metrics.json and artifacts go (default: <run>/eval/ckpt-…)')
    .option('--json', 'print the metrics as JSON')
    .action(async (target: string, opts: EvalCommandOptions) => {
      await evalCommand(target, opts);
    });
}
