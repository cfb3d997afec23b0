/**
 * The run folder and its identity file: where a run writes, and what `--resume` checks before
 * anything is built.
 *
 *   <output.dir>/<name>/<run name>-<hash8>/
 *     config.yaml          the resolved experiment, written before anything else
 *     run.json             identity: hash, name, source file, base folder; resumes that changed values
 *     checkpoints/         iter-NNNNNNN.safetensors + .json (keep_last)
 *     eval/iter-NNNNNNN/   metric artifacts (confusion matrix …)
 *     tracking/            the tracker's local record (a resumed attempt continues it)
 *     resume-NNNNNNN/config.yaml  the config a resume with changed values continued with
 *     result.json          final status, iteration and metrics
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { AblateError } from '../errors.js';
import type { EngineSettings } from './schema.js';
import { findCheckpoint, readCheckpointMeta, type CheckpointEntry } from './checkpoint.js';
import type { RunnableExperiment } from '../config/load.js';
import { canonicalize } from '../config/canonical.js';
import { isPlainObject } from '../config/paths.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { describeChange, resumeChanges, type ConfigChange } from './resume-changes.js';

/** A resume that continued with changed optimisation values: where, what, and the config it used. */
export interface ResumeRecord {
  iteration: number;
  hash: string;
  /** Relative to the run folder. */
  config: string;
  changes: { key: string; from?: unknown; to?: unknown }[];
  at: string;
}

interface RunMeta {
  hash: string;
  name: string;
  experiment: string;
  file?: string;
  baseDir: string;
  createdAt: string;
  resumes?: ResumeRecord[];
}

/** A name usable as one folder: never a path separator, never `.` or `..` (a `name: ..` left the output folder). */
function safeName(s: string): string {
  const name = s.replace(/[^A-Za-z0-9._=+-]+/g, '_').replace(/^_+|_+$/g, '');
  return name === '' || /^\.+$/.test(name) ? 'run' : name;
}

/** A run name as given (sweep cell names keep their `,` and `=`), but one folder deep. */
function oneFolder(name: string): string {
  const s = name.replace(/[/\\]+/g, '_');
  return /^\.*$/.test(s) ? 'run' : s;
}

function inside(dir: string, root: string): boolean {
  const r = path.relative(root, dir);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

/**
 * Run folders stay in the project: below the current directory or the experiment file's folder,
 * unless `output.allow_outside: true` or an absolute `--set output.dir=…` says otherwise (a run
 * folder given with --run-dir is the user's own choice and is not checked). Returns whether the
 * folder is outside, so the run's first line can say so.
 */
export function checkOutputDir(dir: string, resolved: Pick<RunnableExperiment, 'baseDir' | 'file' | 'provenance'>, settings: EngineSettings): boolean {
  const roots = [process.cwd(), resolved.baseDir].map((d) => path.resolve(d));
  if (roots.some((r) => inside(dir, r))) return false;
  if (settings.output.allowOutside) return true;
  // An absolute folder typed on the command line (--set output.dir=/scratch/runs) is its own opt-in.
  if (path.isAbsolute(settings.output.dir) && resolved.provenance?.['output.dir']?.origin.kind === 'set') return true;
  throw new AblateError('run.output-outside', `output.dir '${settings.output.dir}' puts run folders in ${dir}, outside the project (${[...new Set(roots)].join(', ')})`, {
    where: { ...(resolved.file ? { file: resolved.file } : {}), key: 'output.dir' },
    hint: 'write run folders below the current folder, or opt in with output.allow_outside: true (or give an absolute --set output.dir=… or --run-dir on the command line)',
  });
}

export function defaultRunName(resolved: RunnableExperiment): string {
  if (resolved.file) return safeName(path.basename(resolved.file).replace(/\.ya?ml$/i, ''));
  return safeName(String(resolved.config.name ?? 'run'));
}

/** `<output.dir>/<name>/<run name>-<hash8>`, with `-2`, `-3` … when that folder already exists. */
export function newRunDir(resolved: RunnableExperiment, runName: string, settings: EngineSettings): string {
  const experiment = safeName(String(resolved.config.name ?? 'default'));
  checkOutputDir(path.resolve(settings.output.dir), resolved, settings);
  const base = path.resolve(settings.output.dir, experiment, `${oneFolder(runName)}-${resolved.hash.slice(0, 8)}`);
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
  /** Optimisation values this resume changed (empty when it continues with the same config). */
  changes: ConfigChange[];
  /** The config file of this part of the run (config.yaml, or resume-NNNNNNN/config.yaml after a change). */
  configFile: string;
}

/** The run's config file that resolves to `hash`: config.yaml, or one a changed resume wrote. */
export function configFileFor(runDir: string, hash: string): string | undefined {
  const meta = readRunMeta(runDir);
  if (!meta) return undefined;
  if (meta.hash === hash) return path.join(runDir, 'config.yaml');
  const r = [...(meta.resumes ?? [])].reverse().find((x) => x.hash === hash);
  return r ? path.join(runDir, r.config) : undefined;
}

/** The resolved config a checkpoint was trained with, when its file is there and still hashes the same. */
function checkpointConfig(runDir: string, hash: string): Record<string, unknown> | undefined {
  const file = configFileFor(runDir, hash);
  if (!file || !existsSync(file)) return undefined;
  const config: unknown = parse(readFileSync(file, 'utf8'));
  return isPlainObject(config) && canonicalize(config).hash === hash ? config : undefined;
}

/**
 * Creates a new run folder (config.yaml and run.json written first), or, with `resume`, finds the
 * checkpoint to continue from and refuses one written by a different config.
 */
export function openRunDir(
  resolved: RunnableExperiment,
  settings: EngineSettings,
  opts: { resume?: string; runDir?: string; runName?: string; registry?: PluginRegistry; warn?: (line: string) => void },
): OpenedRunDir {
  let runDir: string;
  let resumeFrom: CheckpointEntry | undefined;
  let changes: ConfigChange[] = [];
  if (opts.resume) {
    resumeFrom = findCheckpoint(opts.resume, opts.warn);
    runDir = path.dirname(path.dirname(resumeFrom.tensorsFile));
    const meta = readCheckpointMeta(resumeFrom);
    if (meta.configHash !== resolved.hash) changes = allowedChanges(runDir, meta.configHash, resolved, opts.registry);
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
  let configFile = path.join(runDir, 'config.yaml');
  if (resumeFrom && changes.length > 0) {
    // The changed config is kept in the run folder, and run.json says which values changed at
    // which iteration, so the run's history reads from its folder alone.
    const rel = path.join(path.basename(resumeConfigDir(runDir, resumeFrom.iteration)), 'config.yaml');
    configFile = path.join(runDir, rel);
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(configFile, resolved.canonicalYaml);
    const meta = readRunMeta(runDir);
    if (meta) {
      const entry: ResumeRecord = { iteration: resumeFrom.iteration, hash: resolved.hash, config: rel, changes, at: new Date().toISOString() };
      writeFileSync(path.join(runDir, 'run.json'), `${JSON.stringify({ ...meta, resumes: [...(meta.resumes ?? []), entry] }, null, 2)}\n`);
    }
  } else if (resumeFrom) {
    configFile = configFileFor(runDir, resolved.hash) ?? configFile;
  }
  return { runDir, runName, ...(resumeFrom ? { resumeFrom } : {}), changes, configFile };
}

/**
 * The folder of a changed resume's config: `resume-NNNNNNN`, or `resume-NNNNNNN-2`, `-3` … when an
 * earlier resume from the same checkpoint already wrote one (a retry after a divergence resumes
 * from the same last finite checkpoint again).
 */
export function resumeConfigDir(runDir: string, iteration: number): string {
  const base = path.join(runDir, `resume-${String(iteration).padStart(7, '0')}`);
  let dir = base;
  for (let k = 2; existsSync(path.join(dir, 'config.yaml')); k++) dir = `${base}-${k}`;
  return dir;
}

/** The changes a resume makes to the checkpoint's config; refuses any that would make it meaningless. */
function allowedChanges(runDir: string, checkpointHash: string, resolved: RunnableExperiment, registry: PluginRegistry | undefined): ConfigChange[] {
  const before = checkpointConfig(runDir, checkpointHash);
  const refuse = (detail: string, hint: string) =>
    new AblateError('run.resume-mismatch', `cannot resume ${runDir}: ${detail}`, { where: { file: path.join(runDir, 'config.yaml') }, hint });
  const ownConfig = `ablate run --resume ${runDir} [--set optimizer.lr=…]`;
  if (!before || !registry) {
    throw refuse(
      `its checkpoint was written by config ${checkpointHash.slice(0, 12)}, this experiment resolves to ${resolved.hash.slice(0, 12)}, and the run folder does not hold that config to compare with`,
      `resume with the run's own config: ${ownConfig}`,
    );
  }
  const { allowed, refused } = resumeChanges(before, resolved.recorded ?? resolved.config, registry);
  if (refused.length > 0) {
    throw refuse(
      `a resume may change optimisation values only (optimizer and scheduler options, options marked resumable), but this experiment changes ${refused.slice(0, 6).map(describeChange).join('; ')}${refused.length > 6 ? `; … ${refused.length - 6} more` : ''}`,
      `resume with the run's own config: ${ownConfig}; to change the model or data, start a new run`,
    );
  }
  return allowed;
}
