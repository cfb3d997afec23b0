/**
 * Validates a merged config against the composed schema with ajv (all errors, defaults applied)
 * and turns every ajv error into a located ConfigError: file:line:col of the offending node, the
 * dotted key, expected vs found, did-you-mean for keys, enum values and plugin types, and the
 * file of the `extends` chain that set the value.
 */
// ajv itself is imported only to compile (a cached validator needs just its small runtime helpers).
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir } from '../plugin/bootstrap.js';
import type { JsonSchema } from '../plugin/define.js';
import { ConfigError } from './errors.js';
import type { ConfigState } from './merge.js';
import { kindOf } from './merge.js';
import type { Origin } from './origin.js';
import { isPlainObject, joinPath } from './paths.js';
import { hasReference } from './refs.js';
import { PATH_FORMAT } from './file-paths.js';
import type { PluginKind } from '../plugin/kinds.js';
import { didYouMean, type PluginRegistry } from '../plugin/registry.js';
import { LIST_SLOTS, slotIsActive } from '../plugin/slots.js';
import { composeExperimentSchema } from './schema.js';

type Validator = ValidateFunction;

const compiledByRegistry = new WeakMap<PluginRegistry, Map<string, Promise<Validator>>>();

async function newAjv(): Promise<Ajv2020> {
  const { Ajv2020: Ajv } = await import('ajv/dist/2020.js');
  // strict: false because plugin schemas may carry annotations ajv does not know (x-*, format).
  // strictNumbers: `.inf` and `.nan` are not numbers where a schema says number (an option that
  // accepts them declares no `type`).
  const ajv = new Ajv({ allErrors: true, useDefaults: true, discriminator: true, verbose: true, strict: false, strictNumbers: true, validateFormats: false, code: { source: true, esm: true } });
  // `format: 'path'` marks an option naming a file or folder (rebased by the config loader): any string.
  ajv.addFormat(PATH_FORMAT, true);
  return ajv;
}

/**
 * The compiled validator for a registry (one per registry and mode). Compiling the composed schema
 * costs more than everything else `ablate validate` does, so the generated code is cached as an ES
 * module keyed by the schema's hash and imported on later runs.
 */
export function validatorFor(registry: PluginRegistry, fragment = false): Promise<Validator> {
  let byMode = compiledByRegistry.get(registry);
  if (!byMode) compiledByRegistry.set(registry, (byMode = new Map()));
  const mode = fragment ? 'fragment' : 'full';
  let v = byMode.get(mode);
  if (!v) {
    v = compileCached(composeExperimentSchema(registry, { fragment }));
    byMode.set(mode, v);
  }
  return v;
}

async function compileCached(schema: JsonSchema): Promise<Validator> {
  const { dir, importable } = cacheDir();
  const key = createHash('sha256').update(JSON.stringify(schema)).update(AJV_CACHE_VERSION).digest('hex').slice(0, 16);
  const file = path.join(dir, `validator-${key}.mjs`);
  if (importable && existsSync(file)) {
    try {
      return ((await import(pathToFileURL(file).href)) as { default: Validator }).default;
    } catch {
      /* a broken cache entry: recompile below */
    }
  }
  const ajv = await newAjv();
  const validate = ajv.compile(schema);
  if (importable) {
    try {
      const mod = (await import('ajv/dist/standalone/index.js')) as unknown as { default: (ajv: Ajv2020, v: ValidateFunction) => string };
      const standaloneCode = mod.default;
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, standaloneCode(ajv, validate));
      renameSync(tmp, file);
    } catch {
      /* caching is an optimisation only */
    }
  }
  return validate;
}

/** Bump when the ajv options above change, so old generated validators are not reused. */
const AJV_CACHE_VERSION = 'v2';

/** Adds the slot defaults the container would use (`scheduler: {type: constant}`) so they are visible. */
export function materializeSlotDefaults(state: ConfigState, registry: PluginRegistry): void {
  const configured = (slot: string) => isPlainObject(state.tree[slot]);
  const slots = registry.slots();
  for (const [slot, spec] of slots) {
    if (!spec.default || configured(slot) || !slotIsActive(slots, slot, configured)) continue;
    // A default whose plugin is not registered (yet) is left to the container to report when used.
    if (!registry.has(spec.kind, spec.default.type)) continue;
    state.tree[slot] = { ...spec.default };
    state.setOrigin(slot, { kind: 'default', note: `slot default of '${slot}'` });
    state.setOrigin(`${slot}.type`, { kind: 'default', note: `slot default of '${slot}'` });
  }
  for (const [slot, spec] of Object.entries(LIST_SLOTS)) {
    if (state.tree[slot] !== undefined || !spec.default.every((d) => registry.has(spec.kind, d.type))) continue;
    state.tree[slot] = spec.default.map((d) => ({ ...d }));
    const origin = { kind: 'default' as const, note: `slot default of '${slot}'` };
    state.setOrigin(slot, origin);
    spec.default.forEach((_, i) => {
      state.setOrigin(`${slot}.${i}`, origin);
      state.setOrigin(`${slot}.${i}.type`, origin);
    });
  }
}

export interface ValidateOptions {
  fragment?: boolean;
  /** The experiment file itself (values set in other files get an "inherited from" note). */
  mainFile?: string;
  /** Skip looking for newly defaulted nodes (applyDefaults already recorded them). */
  defaultsRecorded?: boolean;
}

/**
 * Fills in schema defaults without reporting anything, so that references can point at defaulted
 * values (`max_iterations: ${trainer.iterations}` when the trainer's default is used).
 */
export async function applyDefaults(state: ConfigState, registry: PluginRegistry, opts: ValidateOptions = {}): Promise<void> {
  (await validatorFor(registry, opts.fragment))(state.tree);
  recordDefaults(state, state.tree, '');
}

/** Validates `state.tree` in place (defaults are added with provenance); returns every error. */
export async function validateState(state: ConfigState, registry: PluginRegistry, opts: ValidateOptions = {}): Promise<ConfigError[]> {
  const validate = await validatorFor(registry, opts.fragment);
  const ok = validate(state.tree);
  if (!opts.defaultsRecorded) recordDefaults(state, state.tree, '');
  if (ok) return [];
  const errors: ConfigError[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    const ce = toConfigError(e, state, registry, opts);
    if (!ce) continue;
    const key = `${ce.code}|${ce.where?.key}|${ce.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(ce);
  }
  return errors;
}

/** Nodes that ajv filled in from schema defaults have no provenance yet: mark them. */
function recordDefaults(state: ConfigState, value: unknown, p: string, component?: string): void {
  if (p !== '' && !state.prov.has(p)) state.prov.set(p, { origin: { kind: 'default', note: component ? `schema default of ${component}` : 'schema default' }, overrode: [] });
  if (isPlainObject(value)) {
    const here = typeof value.type === 'string' ? `'${value.type}'` : component;
    for (const k of Object.keys(value)) recordDefaults(state, value[k], joinPath(p, k), here);
  } else if (Array.isArray(value)) value.forEach((v, i) => recordDefaults(state, v, joinPath(p, i), component));
}

function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function found(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v) || isPlainObject(v)) {
    const s = JSON.stringify(v);
    return `${kindOf(v)} ${s.length > 60 ? `${s.slice(0, 57)}...` : s}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan (not a number)' : `${v > 0 ? '' : '-'}.inf (not a finite number)`;
  return `${typeof v} ${String(v)}`;
}

function where(p: string): string {
  return p === '' ? 'the experiment' : `'${p}'`;
}

function kindOfSchema(schema: unknown, registry: PluginRegistry): PluginKind | undefined {
  const k = isPlainObject(schema) ? schema['x-ablate-kind'] : undefined;
  return typeof k === 'string' && registry.hasKind(k) ? k : undefined;
}

function notesFor(state: ConfigState, origin: Origin | undefined, opts: ValidateOptions): string[] {
  const notes: string[] = [];
  if (origin?.file && opts.mainFile && origin.file !== opts.mainFile) {
    notes.push(`set in ${path.relative(process.cwd(), origin.file)}, inherited by ${path.relative(process.cwd(), opts.mainFile)} through extends`);
  }
  if (origin?.kind === 'sweep' && origin.note) notes.push(`set by the sweep cell's ${origin.note}`);
  return notes;
}

function toConfigError(e: ErrorObject, state: ConfigState, registry: PluginRegistry, opts: ValidateOptions): ConfigError | undefined {
  const p = pointerToPath(e.instancePath);
  const data = e.data;
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  // In a fragment, references may point at keys defined elsewhere: do not type-check them.
  if (opts.fragment && typeof data === 'string' && hasReference(data)) return undefined;
  const mk = (code: string, message: string, key: string, hint?: string, atKey = false) => {
    // A key missing at the top level has no node to point at: name the experiment file.
    const origin = state.nearestOrigin(key) ?? (opts.mainFile ? { kind: 'file' as const, file: opts.mainFile } : undefined);
    return new ConfigError(code, message, { origin, key: key || undefined, atKey, hint, notes: notesFor(state, origin, opts) });
  };
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const key = joinPath(p, extra);
      const allowed = Object.keys((parent?.properties as object | undefined) ?? {});
      const near = didYouMean(extra, allowed);
      const comp = isPlainObject(data) && typeof data.type === 'string' ? ` ('${data.type}' options)` : '';
      const list = allowed.length <= 24 ? `allowed keys${comp}: ${allowed.join(', ')}` : undefined;
      return mk('config.unknown-key', `unknown key '${extra}' in ${where(p)}`, key, [near ? `did you mean '${near}'?` : '', list].filter(Boolean).join(' '), true);
    }
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      if (missing === 'type' && kindOfSchema(parent, registry)) return undefined; // the discriminator error says it better
      const slot = p === '' ? registry.slot(missing) : undefined;
      const hint = slot ? `${slot.description} Registered ${slot.kind} types: ${registry.types(slot.kind).join(', ') || '(none)'}` : undefined;
      return mk('config.missing-key', `missing required key '${missing}' in ${where(p)}`, p === '' ? missing : p, hint);
    }
    case 'discriminator': {
      const kind = kindOfSchema(parent, registry) ?? 'component';
      const params = e.params as { error: string; tagValue?: unknown };
      const types = kind === 'component' ? [] : registry.types(kind as PluginKind);
      if (params.error === 'mapping') {
        const t = String(params.tagValue);
        if (opts.fragment && hasReference(t)) return undefined;
        const near = didYouMean(t, types);
        const elsewhere = registry.kinds().filter((k) => k !== kind && registry.has(k, t));
        const hint = [near ? `did you mean '${near}'?` : '', elsewhere.length ? `'${t}' is a ${elsewhere.join('/')} plugin, not a ${kind}.` : '', `registered ${kind} types: ${types.join(', ') || '(none)'}`].filter(Boolean).join(' ');
        return mk('plugin.unknown-type', `unknown ${kind} type '${t}' at ${where(p)}`, joinPath(p, 'type'), hint);
      }
      if (opts.fragment && isPlainObject(data) && data.type === undefined) return undefined;
      return mk('config.missing-type', `${where(p)} needs a 'type' naming a ${kind} plugin (found ${isPlainObject(data) && data.type !== undefined ? found(data.type) : 'none'})`, p, `registered ${kind} types: ${types.join(', ') || '(none)'}`);
    }
    case 'not': {
      const kind = kindOfSchema(parent, registry);
      if (kind) return mk('plugin.unknown-type', `no ${kind} plugins are registered, so ${where(p)} cannot be built`, p, `add a ${kind} plugin to plugins/manifest.ts or list your own under plugins:`);
      return mk('config.invalid-value', `${where(p)} ${e.message ?? 'is invalid'}`, p);
    }
    case 'type': {
      const expected = String((e.params as { type: string | string[] }).type).replace(/,/g, ' or ');
      return mk('config.wrong-type', `${where(p)}: expected ${expected}, found ${found(data)}`, p);
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      const near = typeof data === 'string' ? didYouMean(data, allowed.filter((x): x is string => typeof x === 'string')) : undefined;
      return mk('config.invalid-value', `${where(p)}: expected one of ${allowed.map((x) => JSON.stringify(x)).join(', ')}, found ${found(data)}`, p, near ? `did you mean '${near}'?` : undefined);
    }
    case 'const':
      return mk('config.invalid-value', `${where(p)}: expected ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, found ${found(data)}`, p);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const { comparison, limit } = e.params as { comparison: string; limit: number };
      return mk('config.out-of-range', `${where(p)}: expected a number ${comparison} ${limit}, found ${found(data)}`, p);
    }
    case 'if':
    case 'oneOf':
    case 'anyOf':
      // Their branch errors are reported individually; the summary adds nothing but noise.
      if (e.keyword === 'if') return undefined;
      return mk('config.invalid-value', `${where(p)}: ${e.message ?? 'does not match the schema'}, found ${found(data)}`, p);
    default:
      return mk('config.invalid-value', `${where(p)}: ${e.message ?? 'is invalid'}, found ${found(data)}`, p);
  }
}

