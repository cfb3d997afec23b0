/**
 * `extends:` — one path or a list, relative to the file that names it, merged in order (later
 * wins) before the file's own keys. Each file is merged once per chain; a cycle is an error that
 * lists the files around it.
 */
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { AblateError, AblateErrors } from '../errors.js';
import { ConfigError } from './errors.js';
import { applyLayer, type ConfigState } from './merge.js';
import type { Origin } from './origin.js';
import { isPlainObject, joinPath } from './paths.js';
import { readYamlFile } from './yaml-source.js';

/**
 * Merges `file` and everything it extends into `state`. Returns the files read, in merge order.
 * A file that cannot be merged (missing, a directory, not YAML, a cycle) is added to `gaps`: the
 * merged config then lacks what it would have set, so errors that only echo that are not news.
 */
export function mergeFileChain(state: ConfigState, file: string, errors: AblateError[], stack: string[] = [], gaps: string[] = []): string[] {
  let layer;
  try {
    layer = readYamlFile(file);
  } catch (e) {
    // Report a broken base together with the other errors instead of stopping at it.
    if (e instanceof AblateErrors) errors.push(...e.errors);
    else if (e instanceof AblateError) errors.push(e);
    else throw e;
    gaps.push(file);
    return [];
  }
  errors.push(...layer.problems);
  const root = layer.value;
  const read: string[] = [];
  const ext = root !== null && typeof root === 'object' && !Array.isArray(root) ? (root as Record<string, unknown>).extends : undefined;
  if (ext !== undefined && ext !== null) {
    const entries: { spec: unknown; lp: string }[] = Array.isArray(ext) ? ext.map((spec, i) => ({ spec, lp: joinPath('extends', i) })) : [{ spec: ext, lp: 'extends' }];
    for (const { spec, lp } of entries) {
      const origin: Origin = layer.origins.get(lp) ?? { kind: 'file', file };
      if (typeof spec !== 'string' || spec.length === 0) {
        errors.push(new ConfigError('config.bad-extends', `extends entries must be file paths (found ${JSON.stringify(spec)})`, { origin, key: 'extends' }));
        gaps.push(String(spec));
        continue;
      }
      const target = path.resolve(path.dirname(file), spec);
      if (!existsSync(target)) {
        errors.push(new ConfigError('config.extends-not-found', `extends '${spec}': file not found (${target})`, { origin, key: 'extends', hint: 'paths in extends are relative to the file that lists them' }));
        gaps.push(target);
        continue;
      }
      if (statSync(target).isDirectory()) {
        errors.push(new ConfigError('config.extends-not-a-file', `extends '${spec}': ${target} is a directory, not a YAML file`, { origin, key: lp, hint: `name a file in it: ${spec.replace(/\/$/, '')}/<name>.yaml` }));
        gaps.push(target);
        continue;
      }
      const chain = [...stack, file];
      if (chain.includes(target)) {
        const cycle = [...chain.slice(chain.indexOf(target)), target].map((f) => path.relative(process.cwd(), f) || f);
        errors.push(new ConfigError('config.extends-cycle', `extends cycle: ${cycle.join(' → ')}`, { origin, key: 'extends' }));
        // Whatever the entry was meant to name is missing from the merged config.
        gaps.push(target);
        continue;
      }
      read.push(...mergeFileChain(state, target, errors, chain, gaps));
    }
  }
  applyLayer(state, layer, errors, { skipRootKeys: ['extends'] });
  if (root !== null && root !== undefined && !isPlainObject(root)) gaps.push(file); // not a map: nothing merged
  read.push(file);
  return read;
}
