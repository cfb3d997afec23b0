/**
 * The run folder and its identity file: where a run writes, and what `--resume` checks before
 * anything is built.
 *
 *   <output.dir>/<name>/<run name>-<hash8>/
 *     config.yaml          the resolved experiment, written before anything else
 *     run.json             identity: hash, name, source file, base folder
 *     checkpoints/         iter-NNNNNNN.safetensors + .json (keep_last)
 *     eval/iter-NNNNNNN/   metric artifacts (confusion matrix …)
 *     tracking/            the tracker's local record (resumed runs: resume-NNNNNNN/tracking/)
 *     result.json          final status, iteration and metrics
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import type { EngineSettings } from './schema.js';
import { findCheckpoint, type CheckpointEntry } from './checkpoint.js';
import type { RunnableExperiment } from '../config/load.js';

interface RunMeta {
  hash: string;
  name: string;
  experiment: string;
  file?: string;
  baseDir: string;
  createdAt: string;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._=+-]+/g, '_').replace(/^_+|_+$/g, '') || 'run';
}

export function defaultRunName(resolved: RunnableExperiment): string {
  if (resolved.file) return safeName(path.basename(resolved.file).replace(/\.ya?ml$/i, ''));
  return safeName(String(resolved.config.name ?? 'run'));
}

/** `<output.dir>/<name>/<run name>-<hash8>`, with `-2`, `-3` … when that folder already exists. */
export function newRunDir(resolved: RunnableExperiment, runName: string, settings: EngineSettings): string {
  const experiment = safeName(String(resolved.config.name ?? 'default'));
  const base = path.resolve(settings.output.dir, experiment, `${runName}-${resolved.hash.slice(0, 8)}`);
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}

export function readRunMeta(runDir: string): RunMeta | undefined {
  const f = path.join(runDir, 'run.json');
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as RunMeta;
}

export interface OpenedRunDir {
  runDir: string;
  runName: string;
  /** The checkpoint to continue from, when resuming. */
  resumeFrom?: CheckpointEntry;
}

/**
 * Creates a new run folder (config.yaml and run.json written first), or, with `resume`, finds the
 * checkpoint to continue from and refuses one written by a different config.
 */
export function openRunDir(resolved: RunnableExperiment, settings: EngineSettings, opts: { resume?: string; runDir?: string; runName?: string }): OpenedRunDir {
  let runDir: string;
  let resumeFrom: CheckpointEntry | undefined;
  if (opts.resume) {
    resumeFrom = findCheckpoint(opts.resume);
    runDir = path.dirname(path.dirname(resumeFrom.tensorsFile));
    const meta = JSON.parse(readFileSync(resumeFrom.metaFile, 'utf8')) as { configHash?: string };
    if (meta.configHash && meta.configHash !== resolved.hash) {
      throw new AblateError('run.resume-mismatch', `cannot resume ${runDir}: its config hash is ${meta.configHash.slice(0, 12)}, this experiment resolves to ${resolved.hash.slice(0, 12)}`, {
        where: { file: path.join(runDir, 'config.yaml') },
        hint: `resume with the run's own config: ablate run ${path.join(runDir, 'config.yaml')} --resume ${runDir} (or \`ablate diff\` the two files)`,
      });
    }
  } else {
    runDir = opts.runDir ? path.resolve(opts.runDir) : newRunDir(resolved, opts.runName ?? defaultRunName(resolved), settings);
  }
  const prior = readRunMeta(runDir);
  const runName = opts.runName ?? prior?.name ?? defaultRunName(resolved);
  mkdirSync(runDir, { recursive: true });
  if (!resumeFrom) {
    writeFileSync(path.join(runDir, 'config.yaml'), resolved.canonicalYaml);
    const meta: RunMeta = {
      hash: resolved.hash,
      name: runName,
      experiment: String(resolved.config.name ?? 'default'),
      ...(resolved.file ? { file: path.resolve(resolved.file) } : {}),
      baseDir: path.resolve(resolved.baseDir),
      createdAt: new Date().toISOString(),
    };
    writeFileSync(path.join(runDir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);
  }
  return { runDir, runName, ...(resumeFrom ? { resumeFrom } : {}) };
}
