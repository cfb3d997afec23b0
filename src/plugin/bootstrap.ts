/**
 * Builds the plugin registry an experiment is validated and assembled with: the built-ins from
 * `plugins/manifest.ts` (imported dynamically, so the core has no static dependency on plugins)
 * plus the experiment's own `plugins:` entries, each resolved relative to the file that lists it.
 */
import { PluginRegistry } from './registry.js';
import { loadUserPlugins } from './loader.js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AblateError } from '../errors.js';
import type { AnyPlugin } from './define.js';
import { codeRoot } from '../package-root.js';
import type { RegisteredPack } from './registry.js';

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
    const registry = root.copy();
    for (const { spec, baseDir } of specs) await loadUserPlugins([spec], baseDir, registry);
    return registry;
  })();
  if (cacheable) {
    withUserPlugins.set(key, building);
    building.catch(() => withUserPlugins.delete(key));
  }
  return building;
}

// ---------------------------------------------------------------------------------------------
// Schema-only registry: what `validate`, `print`, `explain`, `diff` and `sweep --dry-run` need is
// every plugin's kind, type, description and options schema, not its code. Importing the built-in
// plugins loads TensorFlow.js (~0.5 s), so their schemas are cached in a JSON file keyed by a
// fingerprint (path, size, mtime) of the plugin and core sources; a stale or missing cache falls
// back to importing the manifest and rewrites the cache. Its plugins cannot be built.


interface CachedPack {
  name: string;
  source: string;
  kinds: RegisteredPack['kinds'];
  slots: RegisteredPack['slots'];
}

interface CachedPlugin {
  kind: AnyPlugin['kind'];
  type: string;
  description: string;
  options: AnyPlugin['options'];
  source: string;
}


function sourceFingerprint(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(m?[jt]s|json)$/.test(e.name) && !e.name.endsWith('.map') && !e.name.endsWith('.d.ts')) {
        const st = statSync(full);
        h.update(`${full}:${st.size}:${st.mtimeMs}\n`);
      }
    }
  };
  walk(path.join(codeRoot, 'plugins'));
  walk(path.join(codeRoot, 'src'));
  return h.digest('hex');
}

/**
 * ablate's cache folder: node_modules/.cache/ablate next to the package (so generated modules can
 * import ajv's runtime), else a temp folder. `importable` says whether ESM there can import ajv.
 */
export function cacheDir(): { dir: string; importable: boolean } {
  // ABLATE_CACHE_DIR moves the cache (generated validators there cannot import ajv, so they are
  // not reused: the benchmark uses this to measure the uncached path).
  const override = process.env.ABLATE_CACHE_DIR;
  if (override) return { dir: override, importable: false };
  for (const nm of [path.join(codeRoot, 'node_modules'), path.join(codeRoot, '..', 'node_modules')]) {
    if (existsSync(path.join(nm, 'ajv'))) return { dir: path.join(nm, '.cache', 'ablate'), importable: true };
  }
  return { dir: path.join(os.tmpdir(), 'ablate-cache'), importable: false };
}

function cacheFile(): string {
  return path.join(cacheDir().dir, `plugin-schemas-${createHash('sha256').update(codeRoot).digest('hex').slice(0, 8)}.json`);
}

let schemaOnly: Promise<PluginRegistry> | undefined;

/** The built-ins' schemas without their code (cached); see above. Never use it to build. */
export function schemaRegistry(): Promise<PluginRegistry> {
  schemaOnly ??= (async () => {
    const fingerprint = sourceFingerprint();
    const file = cacheFile();
    let cached: { packs: CachedPack[]; plugins: CachedPlugin[] } | undefined;
    try {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { fingerprint: string; packs?: CachedPack[]; plugins: CachedPlugin[] };
      if (data.fingerprint === fingerprint && data.packs) cached = { packs: data.packs, plugins: data.plugins };
    } catch {
      cached = undefined;
    }
    if (!cached) {
      const real = await builtinRegistry();
      const packs = real.packs().map(({ name, source, kinds, slots }) => ({ name, source, kinds, slots }));
      const plugins = real.list().map(({ plugin, source }) => ({ kind: plugin.kind, type: plugin.type, description: plugin.description, options: plugin.options, source }));
      try {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify({ fingerprint, packs, plugins }));
      } catch {
        /* a read-only install just pays the import every time */
      }
      return real;
    }
    const registry = new PluginRegistry();
    // A pack's kinds and slots first (its plugins follow below, like every cached plugin).
    for (const { source, ...pack } of cached.packs) registry.registerPack({ ...pack, plugins: [] }, source);
    for (const c of cached.plugins) {
      registry.register(
        {
          ...c,
          create: () => {
            throw new AblateError('plugin.schema-only', `${c.kind} '${c.type}' was loaded for validation only and cannot be built`, { exitCode: 1 });
          },
        },
        c.source,
      );
    }
    return registry;
  })();
  return schemaOnly;
}
