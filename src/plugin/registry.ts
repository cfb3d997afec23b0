/**
 * The registry of plugins, by kind and type. Registration is explicit (the built-in manifest and
 * the experiment's `plugins:` list) and a name can be taken once: a clash names both sources.
 */
import { closest, distance } from 'fastest-levenshtein';
import { AblateError } from '../errors.js';
import { PLUGIN_KINDS, isPluginKind, type PluginKind } from './kinds.js';
import type { AnyPlugin } from './define.js';

export interface RegisteredPlugin {
  plugin: AnyPlugin;
  /** Where it came from: `builtin` or the module path / package name that registered it. */
  source: string;
}

export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, RegisteredPlugin>>(PLUGIN_KINDS.map((k) => [k, new Map()]));

  register(plugin: AnyPlugin, source: string): void {
    checkShape(plugin, source);
    const table = this.byKind.get(plugin.kind)!;
    const taken = table.get(plugin.type);
    if (taken) {
      throw new AblateError(
        'plugin.duplicate',
        `${plugin.kind} plugin '${plugin.type}' from ${source} clashes with the one already registered by ${taken.source}`,
        { hint: 'Give your plugin a different `type` name (e.g. prefix it with your project name).' },
      );
    }
    table.set(plugin.type, { plugin, source });
  }

  registerAll(plugins: readonly AnyPlugin[], source: string): void {
    for (const p of plugins) this.register(p, source);
  }

  has(kind: PluginKind, type: string): boolean {
    return this.byKind.get(kind)!.has(type);
  }

  /** The plugin, or a located error listing the registered types and the closest name. */
  get(kind: PluginKind, type: string, where?: { key?: string; file?: string; line?: number; column?: number }): AnyPlugin {
    const found = this.byKind.get(kind)!.get(type);
    if (found) return found.plugin;
    const types = this.types(kind);
    const suggestion = didYouMean(type, types);
    throw new AblateError('plugin.unknown-type', `unknown ${kind} type '${type}'`, {
      where,
      hint: `${suggestion ? `did you mean '${suggestion}'? ` : ''}registered ${kind} types: ${types.join(', ') || '(none)'}`,
    });
  }

  source(kind: PluginKind, type: string): string | undefined {
    return this.byKind.get(kind)!.get(type)?.source;
  }

  types(kind: PluginKind): string[] {
    return [...this.byKind.get(kind)!.keys()].sort();
  }

  list(kind?: PluginKind): RegisteredPlugin[] {
    const kinds = kind ? [kind] : PLUGIN_KINDS;
    return kinds.flatMap((k) => [...this.byKind.get(k)!.values()].sort((a, b) => a.plugin.type.localeCompare(b.plugin.type)));
  }
}

/** The closest candidate within a typo's distance, for "did you mean" hints. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, candidates as string[]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function checkShape(plugin: AnyPlugin, source: string): void {
  const problems: string[] = [];
  if (typeof plugin !== 'object' || plugin === null) problems.push('it is not an object');
  else {
    if (typeof plugin.kind !== 'string' || !isPluginKind(plugin.kind)) problems.push(`kind must be one of ${PLUGIN_KINDS.join(', ')} (got ${JSON.stringify(plugin.kind)})`);
    if (typeof plugin.type !== 'string' || !/^[a-z][a-z0-9_.-]*$/i.test(plugin.type)) problems.push(`type must be a name like 'my-loss' (got ${JSON.stringify(plugin.type)})`);
    if (typeof plugin.description !== 'string' || plugin.description.length === 0) problems.push('description is missing');
    if (typeof plugin.options !== 'object' || plugin.options === null) problems.push('options must be a JSON Schema object');
    if (typeof plugin.create !== 'function') problems.push('create must be a function');
  }
  if (problems.length > 0) {
    throw new AblateError('plugin.invalid', `invalid plugin from ${source}: ${problems.join('; ')}`, {
      hint: 'A plugin module exports definePlugin({ kind, type, description, options, create }) objects.',
    });
  }
}
