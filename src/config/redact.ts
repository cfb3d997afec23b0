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
import { cloneJson, isPlainObject, splitPath } from './paths.js';

/** Shorter values are not masked inside longer strings (a "1" would mangle every number). */
const MIN_MASKED_LENGTH = 4;

/** Env names whose values reached the config (`${env:NAME}` alone or inside a string), from provenance. */
function envNames(state: ConfigState): Set<string> {
  const names = new Set<string>();
  for (const key of state.prov.keys()) {
    const o = state.prov.get(key)?.origin;
    if (!o) continue;
    if (o.kind === 'env' && o.env && o.note === undefined) names.add(o.env);
    if (o.kind === 'ref' && o.ref) for (const m of o.ref.matchAll(/env:\s*([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]!);
  }
  return names;
}

/**
 * The config with every not-allowed env value replaced by its `${env:NAME}` reference (wherever
 * the value ended up, copies through `${a.b}` included), or the tree itself when nothing came
 * from the environment.
 */
export function recordedConfig(state: ConfigState, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const tree = state.tree;
  const output = tree.output;
  const allowed = new Set(isPlainObject(output) && Array.isArray(output.record_env) ? output.record_env.map(String) : []);
  const secrets: [value: string, name: string][] = [];
  for (const name of envNames(state)) {
    const v = env[name];
    if (!allowed.has(name) && v !== undefined && v !== '') secrets.push([v, name]);
  }
  if (secrets.length === 0) return tree;
  const out = cloneJson(tree);
  // A value that is exactly `${env:NAME}` (typed: `${env:PORT}` → 8080) goes back to its reference.
  const hidden = new Set(secrets.map(([, name]) => name));
  for (const key of state.prov.keys()) {
    const o = state.prov.get(key)!.origin;
    if (o.kind === 'env' && o.env && o.note === undefined && hidden.has(o.env)) setAt(out, key, `\${env:${o.env}}`);
  }
  // Everywhere else (inside a longer string, a copy through `${a.b}`), the text of the value;
  // longest first, so a secret that contains another is replaced whole.
  secrets.sort((a, b) => b[0].length - a[0].length);
  const redact = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let s = v;
      for (const [secret, name] of secrets) {
        if (s === secret) return `\${env:${name}}`;
        if (secret.length >= MIN_MASKED_LENGTH && s.includes(secret)) s = s.split(secret).join(`\${env:${name}}`);
      }
      return s;
    }
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
