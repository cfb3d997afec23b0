/**
 * What a run records of its config. A value that came from `${env:NAME}` is often a secret (a
 * token, a password in a URL), so the recorded view writes the reference back instead of the
 * value, unless NAME is listed in `output.record_env`. The recorded view is what config.yaml, the
 * run's params and every tracker see, and what the run identity hash covers: the hash names the
 * reference, not the secret, so config.yaml hashes back to the run's identity and re-resolves
 * `${env:NAME}` from the environment when the run is resumed. (Consequence: two runs that differ
 * only in a not-recorded env value share a hash; list the variable in `output.record_env` when
 * its value changes the result, e.g. a data root.)
 */
import type { ConfigState } from './merge.js';
import { cloneJson, getPath, isPlainObject, splitPath } from './paths.js';

/** Shorter values are not masked inside longer strings (a "1" would mangle every number). */
const MIN_MASKED_LENGTH = 4;

/**
 * Env names whose values reached the config (`${env:NAME}` alone or inside a string), from
 * provenance, each with the reference as first written (`${env:NAME,default}` keeps its default).
 */
function envReferences(state: ConfigState): Map<string, string> {
  const refs = new Map<string, string>();
  for (const key of state.prov.keys()) {
    const o = state.prov.get(key)?.origin;
    if (!o) continue;
    if (o.kind === 'env' && o.env && o.note === undefined && !refs.has(o.env)) refs.set(o.env, o.envReferences?.[0] ?? `\${env:${o.env}}`);
    if (o.kind === 'ref' && o.ref) {
      for (const m of o.ref.matchAll(/env:\s*([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const written = o.envReferences?.find((r) => new RegExp(`^\\$\\{env:\\s*${m[1]}\\s*(,|\\})`).test(r));
        if (!refs.has(m[1]!)) refs.set(m[1]!, written ?? `\${env:${m[1]}}`);
      }
    }
  }
  return refs;
}

/** A secret value (an env value the run must not record) and the reference recorded instead. */
export interface Redaction {
  name: string;
  value: string;
  reference: string;
}

/** The `${env:…}` references written in a text, by name (each as written). */
export function envReferencesIn(text: string): Map<string, string> {
  return new Map([...text.matchAll(/\$\{\s*env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,[^}]*)?\}/g)].map((m) => [m[1]!, m[0]]));
}

/**
 * The env values that reached the config and may not be recorded (not in `output.record_env`),
 * longest first. `replaced` adds references a `--set` flag overrode: a value typed there is then
 * recorded as the reference when it is that variable's value (`--set key=$TOKEN`).
 */
export function envRedactions(state: ConfigState, env: NodeJS.ProcessEnv, replaced: ReadonlyMap<string, string> = new Map()): Redaction[] {
  const output = state.tree.output;
  const allowed = new Set(isPlainObject(output) && Array.isArray(output.record_env) ? output.record_env.map(String) : []);
  const out: Redaction[] = [];
  const references = envReferences(state);
  for (const [name, reference] of replaced) if (!references.has(name)) references.set(name, reference);
  for (const [name, reference] of references) {
    const v = env[name];
    if (!allowed.has(name) && v !== undefined && v !== '') out.push({ name, value: v, reference });
  }
  // Longest first, so a secret that contains another is replaced whole.
  return out.sort((a, b) => b.value.length - a.value.length);
}

/** `text` with every secret value in it replaced by its reference. */
export function redactText(text: string, redactions: readonly Redaction[]): string {
  let s = text;
  for (const { value, reference } of redactions) {
    if (s === value) return reference;
    if (value.length >= MIN_MASKED_LENGTH && s.includes(value)) s = s.split(value).join(reference);
  }
  return s;
}

/**
 * The config with every not-allowed env value replaced by its `${env:NAME}` reference, as written
 * (wherever the value ended up, copies through `${a.b}` included), or the tree itself when
 * nothing came from the environment.
 */
export function recordedConfig(state: ConfigState, env: NodeJS.ProcessEnv, redactions = envRedactions(state, env), replaced: ReadonlyMap<string, string> = new Map()): Record<string, unknown> {
  const tree = state.tree;
  if (redactions.length === 0) return tree;
  const out = cloneJson(tree);
  // A `--set` that typed a variable's value over its reference (`--set key=$TOKEN`) gets that
  // key's reference back, as written there: the same run as without the flag.
  for (const [key, written] of replaced) {
    const refs = [...envReferencesIn(written)];
    const value = getPath(tree, key).value;
    if (refs.length === 1 && refs[0]![1] === written.trim() && redactions.some((r) => r.name === refs[0]![0] && r.value === String(value))) setAt(out, key, written.trim());
  }
  // A value that is exactly `${env:NAME}` (typed: `${env:PORT}` → 8080) goes back to its reference.
  // Each key gets its own reference back (two places may give one variable different defaults).
  const hidden = new Set(redactions.map((r) => r.name));
  for (const key of state.prov.keys()) {
    const o = state.prov.get(key)!.origin;
    if (o.kind === 'env' && o.env && o.note === undefined && hidden.has(o.env)) setAt(out, key, o.envReferences?.[0] ?? `\${env:${o.env}}`);
  }
  // Everywhere else (inside a longer string, a copy through `${a.b}`), the text of the value.
  const redact = (v: unknown): unknown => {
    if (typeof v === 'string') return redactText(v, redactions);
    if (Array.isArray(v)) return v.map(redact);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
    return v;
  };
  return redact(out) as Record<string, unknown>;
}

function setAt(root: Record<string, unknown>, key: string, value: unknown): void {
  const seg = splitPath(key);
  let cur: unknown = root;
  for (const s of seg.slice(0, -1)) cur = isPlainObject(cur) || Array.isArray(cur) ? (cur as Record<string, unknown>)[s] : undefined;
  const last = seg.at(-1);
  if (last !== undefined && (isPlainObject(cur) || Array.isArray(cur)) && last in cur) (cur as Record<string, unknown>)[last] = value;
}

/**
 * A command line as a run records it (the `ablate.command` tag): every secret value replaced by
 * its reference (a `--set x=$TOKEN` the shell expanded), and the value of a `--set` to a key the
 * experiment reads from the environment (`secretKeys`) masked as `***`, since a value typed
 * there in place of `${env:…}` is most likely the secret itself.
 */
export function redactArgs(argv: readonly string[], redactions: readonly Redaction[], secretKeys: ReadonlySet<string>): string[] {
  return argv.map((arg, i) => {
    const inline = /^(--set=|-s(?=[^-]))/.exec(arg);
    const flag = inline ? inline[0] : argv[i - 1] === '--set' || argv[i - 1] === '-s' ? '' : undefined;
    let out = arg;
    if (flag !== undefined) {
      const body = arg.slice(flag.length);
      const eq = body.indexOf('=');
      const key = (eq < 0 ? body : body.slice(0, eq)).replace(/\+$/, '').trim();
      if (eq >= 0 && secretKeys.has(key)) out = `${flag}${body.slice(0, eq + 1)}***`;
    }
    return redactText(out, redactions);
  });
}
