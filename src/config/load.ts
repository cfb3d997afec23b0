/**
 * The pipeline from an experiment file to a resolved, validated config:
 *   extends chain → the file → sweep extracted → (sweep cell) → --set flags → references →
 *   slot defaults → schema validation with defaults → canonical form + sha256.
 * Every step collects errors instead of stopping at the first, so a file with three mistakes
 * reports three located errors; a sweep reports the errors of all its cells at once.
 */
import path from 'node:path';
import { AblateError, AblateErrors } from '../errors.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { registryFor, type PluginSpec } from '../plugin/bootstrap.js';
import { validateState, materializeSlotDefaults, applyDefaults } from './validate.js';
import { pruneSwitchedComponents } from './type-switch.js';
import { canonicalize } from './canonical.js';
import { envRedactions, envReferencesIn, recordedConfig, redactArgs } from './redact.js';
import { ConfigError, throwAll } from './errors.js';
import { mergeFileChain } from './extends.js';
import { assertExperimentFile } from './missing-file.js';
import { findWholeReferences, rebasePaths, type PathSource } from './file-paths.js';
import { adoptFormerSpellings } from './former-spellings.js';
import { applyLayer, ConfigState } from './merge.js';
import type { Provenance } from './origin.js';
import { parseSet, setLayer, type ParsedSet } from './overrides.js';
import { getPath, isPlainObject } from './paths.js';
import { resolveReferences } from './refs.js';
import { mergePhaseErrors } from './phase-errors.js';
import { parseSweep, planCells, type SweepAxis } from './sweep.js';
import { duplicateCellErrors } from './sweep-duplicates.js';

export interface LoadOptions {
  /** `--set` overrides, without the flag: `a.b=1`, `a.b+=[x]`, `a.b~`. */
  set?: readonly string[];
  /** The base registry (default: the built-ins); the experiment's `plugins:` are added on top. */
  registry?: PluginRegistry;
  /** Environment for `${env:...}` (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * The folder the top-level file's relative paths resolve against, when that file is a saved or
   * generated config living elsewhere than the experiment it came from (a run's config.yaml, a
   * sweep cell's file). Its `plugins:` entries resolve there too. Default: the file's folder.
   */
  baseDir?: string;
}

export interface ResolvedExperiment {
  /** Absolute path of the experiment file. */
  file: string;
  /**
   * Its folder (or `LoadOptions.baseDir`): relative paths in options resolve against it. Path
   * options written in other files (`format: 'path'`) have already been rebased onto it.
   */
  baseDir: string;
  /** The resolved config: keys sorted, defaults applied, `extends`/`sweep` removed. */
  config: Record<string, unknown>;
  /**
   * `config` as a run records it (config.yaml, params, trackers): values from `${env:NAME}` written
   * back as the reference unless NAME is in `output.record_env` (src/config/redact.ts).
   */
  recorded: Record<string, unknown>;
  /** sha256 of the canonical JSON of `recorded`: the run identity (covers env references, not secrets). */
  hash: string;
  /** The canonical YAML of `recorded`. */
  canonicalYaml: string;
  /** Every node's origin and what it overrode, by dotted key (sorted). */
  provenance: Record<string, Provenance>;
  /** The files merged, in merge order (bases first, the experiment last). */
  files: string[];
  /** The registry the config was validated with (built-ins + the experiment's plugins). */
  registry: PluginRegistry;
  /** Every relative path option by dotted key: the text as written, and the folder it was relative to. */
  paths: Record<string, PathSource>;
  /**
   * A command line as this run may record it: secret values (see `recorded`) as their references,
   * and `--set` values of keys the experiment reads from the environment masked. Not enumerable:
   * it holds the secrets, and a resolved experiment is printed and compared.
   */
  redactArgs: (argv: readonly string[]) => string[];
  /** Present when the file has a `sweep:` block (this experiment is then the sweep's base). */
  sweep?: { axes: { key: string; label: string; values: unknown[] }[]; cells: string[] };
}

/**
 * The part of a ResolvedExperiment the run engine reads: the resolved config and its identity.
 * `loadExperiment` returns all of it; a tool or test may hand-build one (without a file, the run
 * is named after the config's `name`; without a registry, the engine uses RunOptions.registry).
 */
export type RunnableExperiment = Pick<ResolvedExperiment, 'config' | 'hash' | 'canonicalYaml' | 'baseDir'> & Partial<Pick<ResolvedExperiment, 'file' | 'registry' | 'paths' | 'recorded' | 'provenance' | 'redactArgs'>>;

export interface SweepCell {
  /** From the cell's coordinates: `lr=0.01,method=adv`. */
  name: string;
  /** Coordinates by axis label. */
  labels: Record<string, unknown>;
  /** What the cell changes, as dotted keys (grid keys and the variant's keys). */
  diff: Record<string, unknown>;
  experiment: ResolvedExperiment;
}

interface Prepared {
  file: string;
  baseDir: string;
  state: ConfigState;
  files: string[];
  sweepRaw: unknown;
  otherSets: ParsedSet[];
  /**
   * Errors of the merge phase (a missing base, a duplicate key, a bad `--set`) that leave the rest
   * of the document valid data: reported together with the reference and schema errors.
   */
  errors: AblateError[];
  /** Files that could not be merged (see mergeFileChain): the config lacks what they would set. */
  gaps: string[];
}

function prepare(file: string, opts: LoadOptions): Prepared {
  assertExperimentFile(file);
  const abs = path.resolve(file);
  const errors: AblateError[] = [];
  const gaps: string[] = [];
  const state = new ConfigState();
  const files = mergeFileChain(state, abs, errors, [], gaps);
  const sweepSets: ParsedSet[] = [];
  const otherSets: ParsedSet[] = [];
  for (const raw of opts.set ?? []) {
    try {
      const s = parseSet(raw);
      (s.path === 'sweep' || s.path.startsWith('sweep.') ? sweepSets : otherSets).push(s);
    } catch (e) {
      collect(e, errors);
    }
  }
  // The file itself is not data (a syntax error, a list at the top): there is nothing to validate.
  if (gaps.includes(abs)) throwAll(sortErrors(errors));
  for (const s of sweepSets) applyLayer(state, setLayer(s), errors);
  const sweepRaw = state.tree.sweep;
  delete state.tree.sweep;
  return { file: abs, baseDir: opts.baseDir ? path.resolve(opts.baseDir) : path.dirname(abs), state, files, sweepRaw, otherSets, errors, gaps };
}

function collect(e: unknown, into: AblateError[]): void {
  if (e instanceof AblateErrors) into.push(...e.errors);
  else if (e instanceof AblateError) into.push(e);
  else throw e;
}

function sortErrors<T extends AblateError>(errors: T[]): T[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.where?.file ?? '\uffff').localeCompare(b.e.where?.file ?? '\uffff') || (a.e.where?.line ?? 0) - (b.e.where?.line ?? 0) || (a.e.where?.column ?? 0) - (b.e.where?.column ?? 0) || a.i - b.i)
    .map((x) => x.e);
}

/** The `plugins:` entries, each with the folder of the file that listed it. */
function pluginSpecs(state: ConfigState, p: Prepared): PluginSpec[] {
  const list = state.tree.plugins;
  if (!Array.isArray(list)) return [];
  // Entries of an extended file resolve from that file; the top-level file's from p.baseDir
  // (its own folder, or the original experiment's for a saved/generated config).
  const folderOf = (file: string | undefined) => (!file || path.resolve(file) === p.file ? p.baseDir : path.dirname(file));
  return list
    .map((spec, i) => ({ spec, origin: state.originOf(`plugins.${i}`) }))
    .filter((x): x is { spec: string; origin: ReturnType<ConfigState['originOf']> } => typeof x.spec === 'string')
    .map(({ spec, origin }) => ({ spec, baseDir: folderOf(origin?.file) }));
}

/**
 * The user plugins a file brings in (its own `plugins:` and its bases'), each with the folder it
 * resolves from: what `ablate schema --experiment` adds to the file's editor schema. Nothing is
 * imported here.
 */
export function experimentPluginSpecs(file: string): PluginSpec[] {
  const p = prepare(file, {});
  throwAll(sortErrors(p.errors));
  return pluginSpecs(p.state, p);
}

/**
 * Applies the remaining `--set` flags, references, defaults and validation to `state`. `earlier`
 * are errors of the phases before (merge, sweep cell) that left the rest valid data: they are
 * thrown together with this phase's, and `gaps` (files that could not be merged) mark errors that
 * only echo a missing file as noise.
 */
async function finish(p: Prepared, state: ConfigState, opts: LoadOptions & { fragment?: boolean }, earlier: readonly AblateError[] = p.errors, gaps: readonly string[] = p.gaps): Promise<ResolvedExperiment> {
  const errors: AblateError[] = [...earlier];
  // A flag that replaces an `${env:…}` reference most likely carries the secret itself.
  const secretKeys = new Map<string, string>();
  const replacedRefs = new Map<string, string>();
  for (const s of p.otherSets) {
    const before = getPath(state.tree, s.path).value;
    if (typeof before !== 'string') continue;
    const refs = envReferencesIn(before);
    if (refs.size === 0) continue;
    secretKeys.set(s.path, before);
    for (const [name, ref] of refs) if (!replacedRefs.has(name)) replacedRefs.set(name, ref);
  }
  for (const s of p.otherSets) applyLayer(state, setLayer(s), errors);
  adoptFormerSpellings(state, p.files, errors);
  let registry: PluginRegistry;
  try {
    registry = await registryFor(pluginSpecs(state, p), opts.registry);
  } catch (e) {
    // A plugin that fails to load is located at its `plugins:` entry; without it nothing can be validated.
    if (e instanceof AblateError && !(e instanceof ConfigError)) {
      const list = Array.isArray(state.tree.plugins) ? state.tree.plugins : [];
      const idx = list.findIndex((s) => typeof s === 'string' && (e.message.includes(`'${s}'`) || e.message.includes(`from ${s} `)));
      const origin = state.nearestOrigin(idx >= 0 ? `plugins.${idx}` : 'plugins');
      errors.push(new ConfigError(e.code, e.message, { origin, key: idx >= 0 ? `plugins.${idx}` : 'plugins', hint: e.hint }));
    } else collect(e, errors);
    throwAll(sortErrors(errors));
    throw e;
  }
  pruneSwitchedComponents(state, registry);
  if (!opts.fragment) materializeSlotDefaults(state, registry);
  // Defaults first, so references can see defaulted values; then the real validation.
  await applyDefaults(state, registry, { fragment: opts.fragment });
  const wholeRefs = findWholeReferences(state.tree);
  const refErrors: AblateError[] = [];
  const structural = resolveReferences(state, refErrors, opts.env, { lenient: opts.fragment });
  const schemaErrors = await validateState(state, registry, { fragment: opts.fragment, mainFile: p.file, defaultsRecorded: structural === 0 });
  throwAll(sortErrors(mergePhaseErrors(state.tree, { earlier: errors, refs: refErrors, schema: schemaErrors, incomplete: gaps.length > 0 })));
  // A relative path is relative to the file that wrote it: seen from p.baseDir before hashing.
  const paths = Object.fromEntries(rebasePaths(state, registry, { mainFile: p.file, baseDir: p.baseDir, wholeRefs }));
  const canon = canonicalize(state.tree);
  // What the run records (and its identity): env values as their `${env:NAME}` references.
  const redactions = envRedactions(state, opts.env ?? process.env, replacedRefs);
  const recordedTree = recordedConfig(state, opts.env ?? process.env, redactions, secretKeys);
  const recorded = recordedTree === state.tree ? canon : canonicalize(recordedTree);
  const result = { file: p.file, baseDir: p.baseDir, config: canon.canonical, recorded: recorded.canonical, hash: recorded.hash, files: p.files, registry, paths } as ResolvedExperiment;
  // The YAML text and the provenance record are built on first use (a sweep rarely needs them).
  let provenance: Record<string, Provenance> | undefined;
  Object.defineProperties(result, {
    canonicalYaml: { enumerable: true, get: () => recorded.yaml },
    provenance: { enumerable: true, get: () => (provenance ??= provenanceRecord(state)) },
    redactArgs: { enumerable: false, value: (argv: readonly string[]) => redactArgs(argv, redactions, new Set(secretKeys.keys())) },
  });
  return result;
}

function provenanceRecord(state: ConfigState): Record<string, Provenance> {
  const out: Record<string, Provenance> = {};
  for (const key of [...state.prov.keys()].sort()) {
    if (key === '' || key === 'sweep' || key.startsWith('sweep.')) continue;
    out[key] = state.prov.get(key)!;
  }
  return out;
}

/** Resolves and validates one experiment (a sweep file resolves to its base, without any cell). */
export async function loadExperiment(file: string, opts: LoadOptions = {}): Promise<ResolvedExperiment> {
  const p = prepare(file, opts);
  let sweep: ResolvedExperiment['sweep'];
  const errors = [...p.errors];
  if (p.sweepRaw !== undefined) {
    const spec = parseSweep(p.sweepRaw, p.state, errors);
    if (errors.length === p.errors.length) sweep = { axes: spec!.axes.map(axisSummary), cells: planCells(spec!, p.state).map((c) => c.name) };
  }
  // A broken sweep block is reported with the base's own errors.
  const exp = await finish(p, p.state, opts, errors);
  // Assigned, not spread: a spread would drop the non-enumerable redactArgs.
  if (sweep) exp.sweep = sweep;
  return exp;
}

function axisSummary(a: SweepAxis) {
  return { key: a.key, label: a.label, values: a.values };
}

/**
 * Every cell of the file's sweep, each fully resolved and validated, before anything runs. All
 * errors of all cells are thrown together (an error shared by several cells is reported once,
 * naming them), with two cells resolving to one config or sharing a name as errors too. A file
 * without `sweep:` gives one cell named `base`.
 */
export async function expandSweep(file: string, opts: LoadOptions = {}): Promise<SweepCell[]> {
  const p = prepare(file, opts);
  if (p.sweepRaw === undefined) {
    const experiment = await finish(p, p.state, opts);
    return [{ name: 'base', labels: {}, diff: {}, experiment }];
  }
  const errors = [...p.errors];
  const spec = parseSweep(p.sweepRaw, p.state, errors);
  // Cells of a broken sweep block are not resolved (the base alone may be incomplete by design).
  throwAll(sortErrors(errors));
  const plans = planCells(spec!, p.state);
  if (plans.length === 0) throw new ConfigError('sweep.empty', 'every cell of the sweep is excluded', { origin: p.state.nearestOrigin('sweep.exclude'), key: 'sweep.exclude' });
  const cells: SweepCell[] = [];
  const failures = new Map<string, { error: AblateError; cells: string[] }>();
  for (const plan of plans) {
    const state = p.state.clone();
    const cellErrors = [...p.errors];
    const gaps = [...p.gaps];
    // A cell's files: the experiment's chain, then its variant's, merged after it. A file merged
    // twice (a variant extending the same base) is listed once, where it was merged last.
    const merged = [...p.files];
    for (const variantFile of plan.files) merged.push(...mergeFileChain(state, variantFile, cellErrors, [p.file], gaps));
    const files = merged.filter((f, i) => merged.lastIndexOf(f) === i);
    for (const layer of plan.layers) applyLayer(state, layer, cellErrors);
    try {
      cells.push({ name: plan.name, labels: plan.labels, diff: plan.diff, experiment: await finish({ ...p, files }, state, opts, cellErrors, gaps) });
    } catch (e) {
      const list: AblateError[] = [];
      collect(e, list);
      for (const err of list) {
        const key = `${err.code}|${err.where?.file}|${err.where?.line}|${err.where?.column}|${err.message}`;
        const f = failures.get(key);
        if (f) f.cells.push(plan.name);
        else failures.set(key, { error: err, cells: [plan.name] });
      }
    }
  }
  const errs = [...failures.values()].map(({ error, cells: names }) => {
    const note = names.length === plans.length ? `in all ${plans.length} cells of the sweep` : `in sweep cell${names.length > 1 ? 's' : ''} ${names.slice(0, 4).join('; ')}${names.length > 4 ? ` (+${names.length - 4} more)` : ''}`;
    if (error instanceof ConfigError) error.notes.push(note);
    return error;
  });
  // Cells that resolve to one config (or share a name) are reported with the cells' own errors.
  errs.push(...duplicateCellErrors(spec!, cells.map((c) => ({ name: c.name, labels: c.labels, hash: c.experiment.hash })), p.state));
  throwAll(sortErrors(errs));
  return cells;
}

/** The axes of the file's sweep (empty without `sweep:`), in cell order, with the variant axis marked: what reports lay tables out by. */
export function sweepAxes(file: string, opts: LoadOptions = {}): { label: string; key: string; values: unknown[]; variant: boolean }[] {
  const p = prepare(file, opts);
  const errors = [...p.errors];
  if (p.sweepRaw === undefined) {
    throwAll(sortErrors(errors));
    return [];
  }
  const spec = parseSweep(p.sweepRaw, p.state, errors);
  throwAll(sortErrors(errors));
  return spec!.axes.map((a) => ({ label: a.label, key: a.key, values: a.values, variant: a.isVariant }));
}

/** One cell of a sweep by name (or the base when `cell` is undefined). */
export async function loadCell(file: string, cell: string | undefined, opts: LoadOptions = {}): Promise<ResolvedExperiment> {
  if (cell === undefined) return loadExperiment(file, opts);
  const cells = await expandSweep(file, opts);
  const hit = cells.find((c) => c.name === cell);
  if (!hit) throw new AblateError('sweep.unknown-cell', `no sweep cell named '${cell}'`, { hint: `cells: ${cells.map((c) => c.name).join(' | ')}` });
  return hit.experiment;
}

export type FileCheck = { file: string; kind: 'experiment' | 'fragment' | 'sweep'; cells: number; hash?: string };

/** Is this file a `_base_` fragment (any folder named `_base_` on its path)? */
export function isFragmentFile(file: string): boolean {
  return path.resolve(file).split(path.sep).includes('_base_');
}

/**
 * What `ablate validate` checks for one file: a fragment (under `_base_/`) for syntax, unknown keys
 * and value types, nothing required and references left alone; a sweep for every cell; anything
 * else as a complete experiment.
 */
export async function checkFile(file: string, opts: LoadOptions = {}): Promise<FileCheck> {
  if (isFragmentFile(file)) {
    const p = prepare(file, opts);
    const errors = [...p.errors];
    if (p.sweepRaw !== undefined) parseSweep(p.sweepRaw, p.state, errors);
    await finish(p, p.state, { ...opts, fragment: true }, errors);
    return { file, kind: 'fragment', cells: 0 };
  }
  const cells = await expandSweep(file, opts);
  if (cells.length === 1 && cells[0]!.name === 'base') return { file, kind: 'experiment', cells: 1, hash: cells[0]!.experiment.hash };
  return { file, kind: 'sweep', cells: cells.length };
}

