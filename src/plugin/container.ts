/**
 * Assembles an experiment's components with inversify. Every configured slot becomes a singleton
 * binding whose factory is the plugin's `create`; a component asks for its dependencies through
 * its BuildContext (`target()`, `get(slot)`), so wiring is declared by the slots, never threaded
 * by hand, and each component is built once, on first use, in dependency order.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { AblateError } from '../errors.js';
import type { PluginKind } from './kinds.js';
import type { BuildContext, ComponentConfig, Logger } from './define.js';
import type { ComponentOf } from './contracts.js';
import type { PluginRegistry } from './registry.js';
import { LIST_SLOTS, slotIsActive } from './slots.js';
import { currentRuntime, type RuntimeInfo } from '../runtime/step.js';
import { deriveSeed } from '../seeds.js';

export interface AssembleOptions {
  registry: PluginRegistry;
  /** The resolved, validated experiment (defaults applied). */
  config: Record<string, unknown>;
  baseDir: string;
  runDir?: string;
  log: Logger;
  /** The run's backend and compile decision (the engine's); default: what the current tfjs backend implies. */
  runtime?: RuntimeInfo;
  /**
   * Extra hint for an error a plugin reports at a config key (code, key): e.g. how a path option
   * was written and what it was relative to (the config language's `pathHint`).
   */
  explainKey?: (key: string, code: string) => string | undefined;
}

interface Pending {
  pending: Promise<unknown>;
}

interface SlotBinding {
  kind: PluginKind;
  config: ComponentConfig;
  target?: string;
}

function isComponentConfig(v: unknown): v is ComponentConfig {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/** Which slots the experiment configures (explicitly or through a slot default), among the registry's. */
export function configuredSlots(config: Record<string, unknown>, registry: PluginRegistry): Map<string, SlotBinding> {
  const slots = new Map<string, SlotBinding>();
  const explicit = (slot: string) => isComponentConfig(config[slot]);
  const table = registry.slots();
  for (const [slot, spec] of table) {
    if (!slotIsActive(table, slot, explicit)) continue;
    const value = config[slot];
    const componentConfig = isComponentConfig(value) ? value : (spec.default as ComponentConfig);
    slots.set(slot, { kind: spec.kind, config: componentConfig, target: spec.target });
  }
  for (const [mapKey, spec] of registry.mapSlots()) {
    const entries = config[mapKey];
    if (typeof entries !== 'object' || entries === null) continue;
    for (const [name, value] of Object.entries(entries)) {
      if (isComponentConfig(value)) slots.set(`${mapKey}.${name}`, { kind: spec.kind, config: value });
    }
  }
  for (const [listKey, spec] of Object.entries(LIST_SLOTS)) {
    const items = Array.isArray(config[listKey]) ? (config[listKey] as unknown[]) : spec.default;
    items.forEach((value, i) => {
      if (isComponentConfig(value)) slots.set(`${listKey}.${i}`, { kind: spec.kind, config: value });
    });
  }
  return slots;
}

export class ExperimentContainer {
  private readonly container = new Container({ defaultScope: 'Singleton' });
  private readonly slots: Map<string, SlotBinding>;
  /** Bound slots whose build has finished (resolved or failed). */
  private readonly settled = new Set<string>();
  /** Bound slots built so far, with their components. */
  private readonly bySlot = new Map<string, unknown>();
  /**
   * Which slots each build is waiting for right now (a count per edge: one build may await the
   * same slot twice). Cycles are found in this graph rather than in a single stack of builds, so
   * that a component awaiting two dependencies at once (Promise.all) is not mistaken for a cycle,
   * and a cycle closed through a build another request started is still found.
   */
  private readonly waitsFor = new Map<string, Map<string, number>>();
  /** Every build started (bound and nested), so dispose() can wait for them all to settle. */
  private readonly started: Promise<unknown>[] = [];
  /** Built components in build order; dispose() releases them in reverse. */
  private readonly built: unknown[] = [];

  constructor(private readonly opts: AssembleOptions) {
    this.slots = configuredSlots(opts.config, opts.registry);
    for (const [slot, binding] of this.slots) {
      // The binding holds the pending build (a singleton), so every request shares one instance and
      // a failed build surfaces once, to whoever awaits it, not as an unhandled rejection.
      this.container.bind<Pending>(slot).toDynamicValue(() => {
        const pending = this.create(binding.kind, binding.config, slot, binding.target, slot);
        pending.then(
          (component) => {
            this.settled.add(slot);
            this.bySlot.set(slot, component);
          },
          () => this.settled.add(slot),
        );
        return { pending };
      });
    }
  }

  has(slot: string): boolean {
    return this.slots.has(slot);
  }

  slotNames(): string[] {
    return [...this.slots.keys()];
  }

  /** The components of the slots built so far (the engine checkpoints those that are networks). */
  builtSlots(): ReadonlyMap<string, unknown> {
    return this.bySlot;
  }

  /** The kind each configured slot holds. */
  kindOf(slot: string): PluginKind | undefined {
    return this.slots.get(slot)?.kind;
  }

  /** The component in `slot`, built on first request together with what it depends on. */
  get<K extends PluginKind>(slot: string, kind: K): Promise<ComponentOf[K]> {
    return this.request(slot, kind, undefined);
  }

  /** Builds a component that is not bound to a slot (nested components, e.g. transforms). */
  build<K extends PluginKind>(kind: K, config: ComponentConfig, slot: string): Promise<ComponentOf[K]> {
    return this.create(kind, config, slot, undefined, undefined) as Promise<ComponentOf[K]>;
  }

  /**
   * Releases every component built so far that has a `dispose()` (networks, optimizers), newest
   * first, after waiting for builds still under way. A run calls it on every path, failed builds
   * included: tfjs variable names are global to the process, so a network left behind by one
   * sweep cell would make the next cell's identical network fail to register.
   */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.started);
    for (const component of this.built.splice(0).reverse()) {
      const dispose = (component as { dispose?: unknown } | null)?.dispose;
      if (typeof dispose !== 'function') continue;
      try {
        (dispose as () => void).call(component);
      } catch (e) {
        this.opts.log.warn(`releasing a component failed: ${(e as Error).message}`);
      }
    }
  }

  /** A second instance of `slot`'s configured component, named `as` (BuildContext.buildAgain). */
  private async buildAgain<K extends PluginKind>(slot: string, kind: K, as: string, asker: string | undefined): Promise<ComponentOf[K]> {
    const binding = this.slots.get(slot);
    if (!binding) {
      throw new AblateError('experiment.missing-component', `${asker ? `'${asker}' needs` : 'the experiment needs'} a copy of the '${slot}' component, but the experiment has none`, {
        where: { key: slot },
        hint: `Add a \`${slot}:\` block with a \`type\` of kind ${kind}.`,
      });
    }
    if (binding.kind !== kind) throw new AblateError('experiment.wrong-kind', `'${slot}' holds a ${binding.kind}, but a ${kind} was asked for`, { where: { key: slot } });
    if (this.slots.has(as)) throw new AblateError('experiment.slot-taken', `a copy of '${slot}' cannot be named '${as}': the experiment has a slot of that name`, { where: { key: asker ?? slot } });
    return this.create(kind, binding.config, as, binding.target, asker) as Promise<ComponentOf[K]>;
  }

  /** `asker` is the bound slot whose build makes the request (undefined: the engine). */
  private async request<K extends PluginKind>(slot: string, kind: K, asker: string | undefined): Promise<ComponentOf[K]> {
    const binding = this.slots.get(slot);
    if (!binding) {
      throw new AblateError('experiment.missing-component', `${asker ? `'${asker}' needs` : 'the experiment needs'} a '${slot}' component, but the experiment has none`, {
        where: { key: slot },
        hint: `Add a \`${slot}:\` block with a \`type\` of kind ${kind}.`,
      });
    }
    if (binding.kind !== kind) {
      throw new AblateError('experiment.wrong-kind', `'${slot}' holds a ${binding.kind}, but a ${kind} was asked for`, { where: { key: slot } });
    }
    if (asker === undefined || this.settled.has(slot)) return (await this.container.get<Pending>(slot).pending) as ComponentOf[K];
    const cycle = this.waitPath(slot, asker);
    if (cycle) {
      throw new AblateError('experiment.dependency-cycle', `components depend on each other in a cycle: ${[...cycle, slot].join(' → ')}`, {
        where: { key: asker },
        hint: 'a component cannot need, directly or through others, the component that needs it',
      });
    }
    const edges = this.waitsFor.get(asker) ?? new Map<string, number>();
    this.waitsFor.set(asker, edges);
    edges.set(slot, (edges.get(slot) ?? 0) + 1);
    try {
      return (await this.container.get<Pending>(slot).pending) as ComponentOf[K];
    } finally {
      const left = (edges.get(slot) ?? 1) - 1;
      if (left > 0) edges.set(slot, left);
      else edges.delete(slot);
    }
  }

  /** A chain of waiting builds from `from` to `to` (`[from, …, to]`), if one exists. */
  private waitPath(from: string, to: string, seen = new Set<string>()): string[] | undefined {
    if (from === to) return [from];
    seen.add(from);
    for (const next of this.waitsFor.get(from)?.keys() ?? []) {
      if (seen.has(next)) continue;
      const rest = this.waitPath(next, to, seen);
      if (rest) return [from, ...rest];
    }
    return undefined;
  }

  /** `owner` is the bound slot this build belongs to (a nested build belongs to its parent's). */
  private create(kind: PluginKind, config: ComponentConfig, slot: string, target: string | undefined, owner: string | undefined): Promise<unknown> {
    const pending = this.construct(kind, config, slot, target, owner);
    pending.catch(() => undefined);
    this.started.push(pending);
    return pending;
  }

  private async construct(kind: PluginKind, config: ComponentConfig, slot: string, target: string | undefined, owner: string | undefined): Promise<unknown> {
    const plugin = this.opts.registry.get(kind, config.type, { key: `${slot}.type` });
    const { type: _type, ...options } = config;
    const seed = deriveSeed(Number(this.opts.config.seed ?? 0), slot);
    const ctx: BuildContext = {
      slot,
      seed,
      runDir: this.opts.runDir,
      baseDir: this.opts.baseDir,
      log: this.opts.log,
      runtime: this.opts.runtime ?? currentRuntime(),
      target: async <T>() => {
        if (!target) throw new AblateError('experiment.no-target', `'${slot}' serves no other component`);
        const targetKind = (this.opts.registry.slot(target) ?? { kind }).kind;
        return (await this.request(target, targetKind, owner)) as T;
      },
      get: (otherSlot, otherKind) => this.request(otherSlot, otherKind, owner),
      has: (otherSlot) => this.has(otherSlot),
      // A nested component serves what its parent serves (a warm-up's wrapped schedule drives the
      // same optimizer), so it gets the parent's target.
      build: (nestedKind, nestedConfig, nestedSlot) =>
        this.create(nestedKind, nestedConfig, nestedSlot ?? `${slot}.${nestedConfig.type}`, target, owner) as Promise<ComponentOf[typeof nestedKind]>,
      buildAgain: (otherSlot, otherKind, as) => this.buildAgain(otherSlot, otherKind, as, owner),
    };
    let component: unknown;
    try {
      component = await plugin.create(options, ctx);
    } catch (e) {
      if (e instanceof AblateError) throw this.withKeyHint(e);
      throw new AblateError('plugin.create-failed', `${kind} '${config.type}' (at '${slot}') failed to build: ${(e as Error).message}`, {
        where: { key: slot },
        cause: e,
        exitCode: 1,
      });
    }
    this.built.push(component);
    return component;
  }

  /** A plugin's located error, with the config's own explanation of that key added to the hint (once). */
  private withKeyHint(e: AblateError): AblateError {
    const extra = e.where?.key && e.constructor === AblateError ? this.opts.explainKey?.(e.where.key, e.code) : undefined;
    if (!extra || e.hint?.includes(extra)) return e;
    const out = new AblateError(e.code, e.message, { where: e.where, hint: e.hint ? `${e.hint} ${extra}` : extra, exitCode: e.exitCode, cause: e.cause });
    out.stack = e.stack; // where the plugin threw, not where the hint was added
    return out;
  }
}
