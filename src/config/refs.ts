/**
 * `${a.b}` references and `${env:NAME}` / `${env:NAME,default}`, resolved after all layers are
 * merged (so a reference sees the final value, whichever layer set it). A value that is exactly one
 * reference keeps the referenced type (number, list, map); a reference inside a longer string is
 * formatted into it and must then be a scalar (the JSON text of a map in a name is never meant).
 * Environment values are YAML scalars when whole (`8` → 8, `true` → true).
 * `$${` writes a literal `${`. A cycle is an error that lists its keys.
 */
import type { AblateError } from '../errors.js';
import { ConfigError } from './errors.js';
import type { ConfigState } from './merge.js';
import type { Origin } from './origin.js';
import { cloneJson, getPath, isPlainObject, joinPath } from './paths.js';
import { parse as parseYamlValue } from 'yaml';

/** A reference to a key that is not set; `target` is the key it names. */
export class MissingReference extends ConfigError {
  constructor(
    readonly target: string,
    message: string,
    opts: ConstructorParameters<typeof ConfigError>[2],
  ) {
    super('config.reference-missing', message, opts);
  }
}

const TOKEN = /\$?\$\{([^}]*)\}/g;

export function hasReference(s: string): boolean {
  return s.includes('${');
}

/** Resolves every reference in `state` in place. */
/**
 * Returns how many resolved references can change what schema defaults apply (a map or list
 * copied in, or a component's `type`): only then does validation need to look for new defaults.
 */
export function resolveReferences(state: ConfigState, errors: AblateError[], env: NodeJS.ProcessEnv = process.env, opts: { lenient?: boolean } = {}): number {
  let structural = 0;
  const done = new Set<string>();
  const failed = new Set<string>();
  const visiting: string[] = [];

  const resolveAt = (path: string): void => {
    if (done.has(path) || failed.has(path)) return;
    const { found, value } = getPath(state.tree, path);
    if (!found) return;
    if (typeof value === 'string') {
      if (!hasReference(value)) return;
      if (visiting.includes(path)) return; // reported by the caller that found the cycle
      visiting.push(path);
      try {
        const resolved = resolveString(path, value);
        if (resolved !== undefined) {
          setAt(path, resolved.value, resolved.origin);
          done.add(path);
          if ((resolved.value !== null && typeof resolved.value === 'object') || path === 'type' || path.endsWith('.type')) structural++;
        } else failed.add(path);
      } finally {
        visiting.pop();
      }
    } else if (Array.isArray(value)) value.forEach((_, i) => resolveAt(joinPath(path, i)));
    else if (isPlainObject(value)) for (const k of Object.keys(value)) resolveAt(joinPath(path, k));
  };

  const setAt = (path: string, value: unknown, origin: Origin): void => {
    const dot = path.lastIndexOf('.');
    const parentPath = dot < 0 ? '' : path.slice(0, dot);
    const key = dot < 0 ? path : path.slice(dot + 1);
    const parent = getPath(state.tree, parentPath).value as Record<string, unknown> | unknown[];
    (parent as Record<string, unknown>)[Array.isArray(parent) ? Number(key) : key] = value;
    state.setOrigin(path, origin);
  };

  const resolveString = (path: string, text: string): { value: unknown; origin: Origin } | undefined => {
    const written = state.nearestOrigin(path) ?? { kind: 'file' as const };
    const matches = [...text.matchAll(TOKEN)];
    const whole = matches.length === 1 && matches[0]![0] === text && !text.startsWith('$$');
    let origin: Origin = written;
    const pieces: unknown[] = [];
    let broken = false;
    let last = 0;
    let out = '';
    for (const m of matches) {
      out += text.slice(last, m.index);
      last = m.index! + m[0].length;
      if (m[0].startsWith('$$')) {
        out += m[0].slice(1); // escaped: a literal ${...}
        continue;
      }
      const body = m[1]!.trim();
      const r = resolveToken(path, body, written);
      if (r === undefined) {
        broken = true;
        continue;
      }
      if (!whole && r.value !== null && typeof r.value === 'object') {
        // JSON text of a map in a name or a path is never what was meant (`exp-${model}`).
        const kind = Array.isArray(r.value) ? 'list' : 'map';
        errors.push(
          new ConfigError('config.reference-not-scalar', `'${path}' formats \${${body}} into a string, but ${body} is a ${kind}`, {
            origin: written,
            key: path,
            hint: `inside a longer string refer to a scalar (e.g. \${${body}.${kind === 'map' ? 'type' : '0'}}); a value that is exactly \${${body}} copies the ${kind}`,
          }),
        );
        broken = true;
        continue;
      }
      pieces.push(r.value);
      origin = r.origin;
      out += typeof r.value === 'string' ? r.value : String(r.value);
    }
    out += text.slice(last);
    if (broken) return undefined;
    if (whole) return { value: pieces[0], origin };
    const envReferences = matches.filter((m) => !m[0].startsWith('$$') && m[1]!.trim().startsWith('env:')).map((m) => `\${${m[1]!.trim()}}`);
    return { value: out, origin: { ...written, kind: 'ref', ref: matches.map((m) => m[1]).join(', '), note: undefined, ...(envReferences.length > 0 ? { envReferences } : {}) } };
  };

  const resolveToken = (path: string, body: string, written: Origin): { value: unknown; origin: Origin } | undefined => {
    if (body.startsWith('env:')) {
      const spec = body.slice(4);
      const comma = spec.indexOf(',');
      const name = (comma < 0 ? spec : spec.slice(0, comma)).trim();
      const fallback = comma < 0 ? undefined : spec.slice(comma + 1).trim();
      const raw = env[name];
      const origin: Origin = { ...written, kind: 'env', env: name, envReferences: [`\${${body}}`] };
      if (raw === undefined) {
        if (fallback === undefined) {
          errors.push(new ConfigError('config.env-missing', `environment variable ${name} is not set (needed by '${path}')`, { origin: written, key: path, hint: `set ${name}, or give a default: \${env:${name},value}` }));
          return undefined;
        }
        return { value: scalar(fallback), origin: { ...origin, note: 'default in the reference' } };
      }
      return { value: scalar(raw), origin };
    }
    if (!/^[\w-]+(\.[\w-]+)*$/.test(body)) {
      errors.push(new ConfigError('config.bad-reference', `'\${${body}}' is not a reference: write \${a.b} or \${env:NAME}`, { origin: written, key: path, hint: 'write $${ for a literal ${' }));
      return undefined;
    }
    if (visiting.includes(body)) {
      const cycle = [...visiting.slice(visiting.indexOf(body)), body];
      errors.push(new ConfigError('config.reference-cycle', `reference cycle: ${cycle.join(' → ')}`, { origin: state.nearestOrigin(cycle[0]!), key: cycle[0] }));
      return undefined;
    }
    if (!getPath(state.tree, body).found) {
      // A fragment may refer to keys that only the experiments extending it define.
      if (opts.lenient) return undefined;
      errors.push(new MissingReference(body, `'${path}' refers to \${${body}}, which is not set`, { origin: written, key: path, hint: 'references see the merged config with schema defaults filled in; check the key path' }));
      return undefined;
    }
    resolveAt(body);
    const target = getPath(state.tree, body).value;
    if (failed.has(body)) return undefined; // the target's own error is already reported
    const targetOrigin = state.nearestOrigin(body);
    const origin: Origin = { ...written, kind: 'ref', ref: body, note: targetOrigin ? `${body} from ${targetOrigin.file ? `${targetOrigin.file}:${targetOrigin.line ?? '?'}` : (targetOrigin.flag ?? targetOrigin.kind)}` : undefined };
    if (target !== null && typeof target === 'object') {
      // Copy the subtree's provenance under the new path so explain still knows each leaf's source.
      for (const k of state.prov.keysBelow(body)) state.prov.set(path + k.slice(body.length), state.prov.get(k)!);
      return { value: cloneJson(target), origin };
    }
    return { value: target, origin };
  };

  // Walk the tree once; only strings that contain a reference go through the path-based resolver.
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      if (hasReference(value)) resolveAt(path);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) walk(value[i], joinPath(path, i));
    } else if (isPlainObject(value)) {
      for (const k of Object.keys(value)) walk(value[k], joinPath(path, k));
    }
  };
  walk(state.tree, '');
  return structural;
}

/** An env value or default as a YAML scalar (numbers and booleans typed), otherwise the raw text. */
function scalar(text: string): unknown {
  try {
    const v: unknown = parseYamlValue(text, { schema: 'core' });
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  } catch {
    /* not YAML: keep the text */
  }
  return text;
}
