/**
 * Builds the plugin registry an experiment is validated and assembled with: the built-ins from
 * `plugins/manifest.ts` (imported dynamically, so the core has no static dependency on plugins)
 * plus the experiment's own `plugins:` entries, each resolved relative to the file that lists it.
 */
import { PluginRegistry } from './registry.js';
import { loadUserPlugins } from './loader.js';

let builtins: Promise<PluginRegistry> | undefined;

/**
 * The shared registry of built-in plugins. Treat it as read-only: `registryFor` copies it before
 * adding user plugins, and compiled schemas are cached per registry instance.
 */
export function builtinRegistry(): Promise<PluginRegistry> {
  builtins ??= (async () => {
    const { builtinPlugins } = (await import('../../plugins/manifest.js')) as { builtinPlugins: Parameters<PluginRegistry['registerAll']>[0] };
    const registry = new PluginRegistry();
    registry.registerAll(builtinPlugins, 'builtin');
    return registry;
  })();
  return builtins;
}

/** A user plugin entry and the folder its relative path is resolved against. */
export interface PluginSpec {
  spec: string;
  baseDir: string;
}

const withUserPlugins = new Map<string, Promise<PluginRegistry>>();

/** `base` (default: the built-ins) plus the user plugins; the same list gives the same registry. */
export async function registryFor(specs: readonly PluginSpec[], base?: PluginRegistry): Promise<PluginRegistry> {
  const root = base ?? (await builtinRegistry());
  if (specs.length === 0) return root;
  const key = JSON.stringify(specs);
  const cacheable = base === undefined;
  const hit = cacheable ? withUserPlugins.get(key) : undefined;
  if (hit) return hit;
  const building = (async () => {
    const registry = new PluginRegistry();
    for (const { plugin, source } of root.list()) registry.register(plugin, source);
    for (const { spec, baseDir } of specs) await loadUserPlugins([spec], baseDir, registry);
    return registry;
  })();
  if (cacheable) {
    withUserPlugins.set(key, building);
    building.catch(() => withUserPlugins.delete(key));
  }
  return building;
}
