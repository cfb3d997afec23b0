/**
 * Test support for the method's plugins: options with schema defaults applied (as the experiment
 * validator does), a stand-alone BuildContext, the backends to run on, and fixture loading.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { tf, type AnyPlugin, type BuildContext, type ComponentConfig, type ComponentOf, type PluginKind, type Rng, type StepResult, type Trainer } from '../../src/index.js';
import { SeededRng } from '../../src/data/rng.js';
import { currentRuntime, selectBackend, type BackendName, type RuntimeInfo } from '../../src/runtime/index.js';
import { builtinPlugins } from '../../plugins/manifest.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { isPack } from '../../src/plugin/define.js';
import { ExperimentContainer } from '../../src/plugin/container.js';
import { quietLog } from '../support/log.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(here, '..', 'fixtures', 'method', name), 'utf8')) as T;
}

const ajv = new Ajv({ useDefaults: true, strict: false, allErrors: true });

/** The plugin's options with its schema's defaults filled in; throws if they do not validate. */
export function withDefaults<O>(plugin: AnyPlugin, partial: Record<string, unknown> = {}): O {
  const copy = structuredClone(partial);
  const validate = ajv.compile(plugin.options);
  if (!validate(copy)) throw new Error(`${plugin.kind} '${plugin.type}' options invalid: ${ajv.errorsText(validate.errors)}`);
  return copy as O;
}

/** Every built-in plugin, packs opened. */
const builtinList: readonly AnyPlugin[] = builtinPlugins.flatMap((e) => (isPack(e) ? e.plugins : [e]));

export function builtin(kind: PluginKind, type: string): AnyPlugin {
  const p = builtinList.find((x) => x.kind === kind && x.type === type);
  assert.ok(p, `no built-in ${kind} '${type}'`);
  return p;
}

/** Builds a built-in (or given) plugin outside an experiment: `target` is what ctx.target() returns. */
export async function create<K extends PluginKind>(
  kind: K,
  type: string,
  options: Record<string, unknown> = {},
  extra: { target?: unknown; components?: Record<string, unknown>; plugins?: readonly AnyPlugin[]; slot?: string } = {},
): Promise<ComponentOf[K]> {
  const all = [...(extra.plugins ?? []), ...builtinList];
  const find = (k: PluginKind, t: string) => {
    const p = all.find((x) => x.kind === k && x.type === t);
    assert.ok(p, `no ${k} plugin '${t}'`);
    return p;
  };
  const ctxFor = (slot: string): BuildContext => ({
    slot,
    seed: 1,
    runDir: undefined,
    baseDir: '.',
    log: quietLog,
    runtime: currentRuntime(),
    target: async <T>() => extra.target as T,
    get: async (s: string) => {
      if (!(s in (extra.components ?? {}))) throw new Error(`test context has no '${s}'`);
      return extra.components![s] as never;
    },
    has: (s: string) => s in (extra.components ?? {}),
    build: async (k, config: ComponentConfig, s?: string) => {
      const { type: t, ...rest } = config;
      const p = find(k, t);
      return p.create(withDefaults(p, rest), ctxFor(s ?? `${slot}.${t}`)) as never;
    },
    buildAgain: async (s: string) => {
      throw new Error(`test context cannot copy '${s}': build the trainer in an experiment (assemble)`);
    },
  });
  const plugin = find(kind, type);
  return (await plugin.create(withDefaults(plugin, options), ctxFor(extra.slot ?? kind))) as ComponentOf[K];
}

let tensorflowLoads: boolean | undefined;

/** cpu always; tensorflow as well when its native addon loads on this machine. */
export async function backends(): Promise<BackendName[]> {
  if (tensorflowLoads === undefined) {
    try {
      await selectBackend({ backend: 'tensorflow', log: () => {} });
      tensorflowLoads = true;
    } catch {
      tensorflowLoads = false;
    }
  }
  return tensorflowLoads ? ['cpu', 'tensorflow'] : ['cpu'];
}

export async function useBackend(name: BackendName): Promise<void> {
  await selectBackend({ backend: name, log: () => {} });
  assert.equal(tf.getBackend(), name);
}

export function flatten(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flatten) : [x as number];
}

export function shapeOf(x: unknown): number[] {
  const s: number[] = [];
  let cur = x;
  while (Array.isArray(cur)) {
    s.push(cur.length);
    cur = cur[0];
  }
  return s;
}

/**
 * An experiment container over the built-ins plus `plugins`, with every component's schema
 * defaults filled in (what the experiment validator does before the engine assembles a run).
 */
export function assemble(config: Record<string, unknown>, plugins: readonly AnyPlugin[] = [], runtime?: RuntimeInfo): ExperimentContainer {
  const registry = new PluginRegistry();
  registry.registerAll(builtinPlugins, 'builtin');
  registry.registerAll(plugins, 'test');
  const fill = (kind: PluginKind, c: ComponentConfig): ComponentConfig => {
    const { type, ...rest } = c;
    return { type, ...withDefaults<Record<string, unknown>>(registry.get(kind, type), rest) };
  };
  const resolved: Record<string, unknown> = { ...config };
  for (const [slot, spec] of registry.slots()) {
    const c = config[slot] as ComponentConfig | undefined;
    if (c) resolved[slot] = fill(spec.kind, c);
  }
  for (const [key, spec] of registry.mapSlots()) {
    const m = config[key] as Record<string, ComponentConfig> | undefined;
    if (m) resolved[key] = Object.fromEntries(Object.entries(m).map(([k, c]) => [k, fill(spec.kind, c)]));
  }
  // Slot defaults (e.g. a constant scheduler) need their options too.
  for (const [slot, spec] of registry.slots()) {
    if (!resolved[slot] && spec.default && config[spec.target ?? ''] !== undefined) resolved[slot] = fill(spec.kind, spec.default);
  }
  return new ExperimentContainer({ registry, config: resolved, baseDir: '.', log: quietLog, ...(runtime ? { runtime } : {}) });
}

/**
 * One training iteration as the engine runs it: every configured scheduler sets its optimizer's
 * learning rate for `iteration`, then the trainer steps (trainers leave schedules to the engine).
 */
export async function iterate(c: ExperimentContainer, trainer: Trainer, iteration: number, rng: Rng = new SeededRng(0)): Promise<StepResult> {
  for (const slot of c.slotNames()) {
    if (c.kindOf(slot) === 'scheduler') (await c.get(slot, 'scheduler')).step(iteration);
  }
  return trainer.step(iteration, { rng });
}
