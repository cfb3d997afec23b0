/**
 * Loads user plugins named in an experiment's `plugins:` list: a path relative to the experiment
 * file (`.js`, `.mjs`, or `.ts` through tsx) or an npm package name. A module exports its plugins
 * and packs as `default` (one, or an array) and/or a named `plugins` array.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AblateError } from '../errors.js';
import type { PluginEntry } from './define.js';
import type { PluginRegistry } from './registry.js';

let tsLoaderRegistered = false;

async function ensureTypeScriptLoader(): Promise<void> {
  if (tsLoaderRegistered) return;
  // tsx's ESM hook lets researchers write plugins in TypeScript without a build step.
  const { register } = await import('tsx/esm/api');
  register();
  tsLoaderRegistered = true;
}

function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || spec.startsWith('/') || /\.(m?[jt]s)$/.test(spec);
}

/** Resolves a `plugins:` entry to an importable URL, or a clear error. */
export function resolvePluginSpec(spec: string, baseDir: string): { url: string; display: string; isTs: boolean } {
  if (isPathSpec(spec)) {
    const file = path.resolve(baseDir, spec);
    if (!existsSync(file)) {
      throw new AblateError('plugin.not-found', `plugin file '${spec}' not found (looked for ${file})`, {
        hint: 'Paths in `plugins:` are relative to the experiment file that lists them.',
      });
    }
    return { url: pathToFileURL(file).href, display: spec, isTs: /\.m?ts$/.test(file) };
  }
  try {
    const require = createRequire(path.join(baseDir, 'noop.js'));
    const resolved = require.resolve(spec);
    return { url: pathToFileURL(resolved).href, display: spec, isTs: false };
  } catch {
    throw new AblateError('plugin.not-found', `plugin package '${spec}' is not installed`, {
      hint: `Install it next to the experiment (npm install ${spec}) or give a relative path.`,
    });
  }
}

function pluginsOf(mod: Record<string, unknown>): PluginEntry[] {
  const found: unknown[] = [];
  const add = (v: unknown) => (Array.isArray(v) ? found.push(...v) : v !== undefined && found.push(v));
  add(mod.default);
  add(mod.plugins);
  return found as PluginEntry[];
}

/** Imports each spec and registers its plugins; returns the number registered per spec. */
export async function loadUserPlugins(specs: readonly string[], baseDir: string, registry: PluginRegistry): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const spec of specs) {
    const { url, display, isTs } = resolvePluginSpec(spec, baseDir);
    if (isTs) await ensureTypeScriptLoader();
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      throw new AblateError('plugin.load-failed', `plugin '${display}' failed to load: ${(e as Error).message}`, { cause: e });
    }
    const plugins = pluginsOf(mod);
    if (plugins.length === 0) {
      throw new AblateError('plugin.empty', `plugin module '${display}' exports no plugins`, {
        hint: 'Export definePlugin(...) objects or a definePack(...) as the default export (one or an array) or as `export const plugins = [...]`.',
      });
    }
    registry.registerAll(plugins, display);
    counts.set(spec, plugins.length);
  }
  return counts;
}
