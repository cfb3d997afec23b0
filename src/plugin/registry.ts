/**
 * The registry of plugins, by kind and type, and of the extension points they fill: the kinds of
 * component and the slots of an experiment. The core's kinds and slots are there from the start;
 * plugin packs add theirs. Registration is explicit (the built-in manifest and the experiment's
 * `plugins:` list) and a name can be taken once: a clash names both sources.
 */
import { closest, distance } from 'fastest-levenshtein';
import { AblateError } from '../errors.js';
import { PLUGIN_KINDS, type PluginKind } from './kinds.js';
import { LIST_SLOTS, MAP_SLOTS, SLOTS, type MapSlotSpec, type SlotSpec } from './slots.js';
import { isPack, type AnyPlugin, type PluginEntry, type PluginPack } from './define.js';

export interface RegisteredPlugin {
  plugin: AnyPlugin;
  /** Where it came from: `builtin` or the module path / package name that registered it. */
  source: string;
}

/** A pack as registered: what it contributed besides its plugins. */
export interface RegisteredPack {
  name: string;
  source: string;
  kinds: readonly PluginKind[];
  slots: Readonly<Record<string, SlotSpec>>;
  mapSlots: Readonly<Record<string, MapSlotSpec>>;
}

const CORE = 'the core';

export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, RegisteredPlugin>>(PLUGIN_KINDS.map((k) => [k, new Map()]));
  private readonly kindSource = new Map<PluginKind, string>(PLUGIN_KINDS.map((k) => [k, CORE]));
  private readonly slotTable = new Map<string, { spec: SlotSpec; source: string }>(Object.entries(SLOTS).map(([k, spec]) => [k, { spec, source: CORE }]));
  private readonly mapSlotTable = new Map<string, { spec: MapSlotSpec; source: string }>(Object.entries(MAP_SLOTS).map(([k, spec]) => [k, { spec, source: CORE }]));
  private readonly packTable: RegisteredPack[] = [];

  register(entry: PluginEntry, source: string): void {
    if (isPack(entry)) {
      this.registerPack(entry, source);
      return;
    }
    const plugin = entry;
    checkShape(plugin, source, this.kinds());
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

  registerAll(entries: readonly PluginEntry[], source: string): void {
    for (const e of entries) this.register(e, source);
  }

  /** Who has the top-level key as a slot (single, map or list, or a list's former spelling), if anyone. */
  private slotOwner(key: string): string | undefined {
    const listKeys = Object.entries(LIST_SLOTS).flatMap(([k, l]) => [k, ...(l.formerly ? [l.formerly] : [])]);
    return this.slotTable.get(key)?.source ?? this.mapSlotTable.get(key)?.source ?? (listKeys.includes(key) ? CORE : undefined);
  }

  /** A new slot key of a pack: free, spelled as a key, holding a known kind. */
  private checkNewSlot(from: string, slot: string, kind: PluginKind): void {
    const owner = this.slotOwner(slot);
    if (owner) throw new AblateError('plugin.duplicate-slot', `${from} adds the slot '${slot}', which ${owner} already has`, { hint: 'Name the slot after your pack or its role, e.g. `critic_optimizer`.' });
    if (!/^[a-z][a-z0-9_]*$/.test(slot)) throw new AblateError('plugin.invalid', `${from}: slot '${slot}' must be a lower-case key like 'critic'`);
    if (!this.kindSource.has(kind)) throw new AblateError('plugin.invalid', `${from}: slot '${slot}' holds the unknown kind '${kind}'`, { hint: `kinds: ${this.kinds().join(', ')}` });
  }

  /**
   * A pack's kinds, then its slots and map slots (checked against every kind and slot known so
   * far), then its plugins.
   */
  registerPack(pack: PluginPack, source: string): void {
    const from = `pack '${pack.name}' (${source})`;
    for (const kind of pack.kinds ?? []) {
      const owner = this.kindSource.get(kind);
      if (owner) throw new AblateError('plugin.duplicate-kind', `${from} adds the kind '${kind}', which ${owner} already has`, { hint: 'Name the kind after your pack, e.g. `mypack_critic`.' });
      if (!/^[a-z][a-z0-9_]*$/.test(kind)) throw new AblateError('plugin.invalid', `${from}: kind '${kind}' must be a lower-case name like 'critic'`);
      this.kindSource.set(kind, from);
      this.byKind.set(kind, new Map());
    }
    for (const [slot, spec] of Object.entries(pack.slots ?? {})) {
      this.checkNewSlot(from, slot, spec.kind);
      this.slotTable.set(slot, { spec, source: from });
    }
    for (const [slot, spec] of Object.entries(pack.mapSlots ?? {})) {
      this.checkNewSlot(from, slot, spec.kind);
      this.mapSlotTable.set(slot, { spec, source: from });
    }
    for (const [slot, spec] of Object.entries(pack.slots ?? {})) {
      if (spec.target !== undefined && !this.slotTable.has(spec.target)) {
        throw new AblateError('plugin.invalid', `${from}: slot '${slot}' serves '${spec.target}', which is no slot`, { hint: `slots: ${[...this.slotTable.keys()].join(', ')}` });
      }
    }
    this.packTable.push({ name: pack.name, source, kinds: [...(pack.kinds ?? [])], slots: { ...pack.slots }, mapSlots: { ...pack.mapSlots } });
    for (const p of pack.plugins) this.register(p, source);
  }

  /** A registry with the same kinds, slots and plugins, to add user plugins to. */
  copy(): PluginRegistry {
    const out = new PluginRegistry();
    for (const [kind, source] of this.kindSource) {
      if (source === CORE) continue;
      out.kindSource.set(kind, source);
      out.byKind.set(kind, new Map());
    }
    for (const [slot, entry] of this.slotTable) out.slotTable.set(slot, entry);
    for (const [slot, entry] of this.mapSlotTable) out.mapSlotTable.set(slot, entry);
    out.packTable.push(...this.packTable);
    for (const [kind, table] of this.byKind) for (const [type, entry] of table) out.byKind.get(kind)!.set(type, entry);
    return out;
  }

  /** Every kind, the core's first, then the packs' in registration order. */
  kinds(): PluginKind[] {
    return [...this.kindSource.keys()];
  }

  hasKind(kind: string): kind is PluginKind {
    return this.kindSource.has(kind as PluginKind);
  }

  /** Single-component slots, the core's first, then the packs'. */
  slots(): ReadonlyMap<string, SlotSpec> {
    return new Map([...this.slotTable].map(([k, v]) => [k, v.spec]));
  }

  slot(name: string): SlotSpec | undefined {
    return this.slotTable.get(name)?.spec;
  }

  /** Map slots (a key whose every entry is a named component of one kind), the core's first, then the packs'. */
  mapSlots(): ReadonlyMap<string, MapSlotSpec> {
    return new Map([...this.mapSlotTable].map(([k, v]) => [k, v.spec]));
  }

  packs(): readonly RegisteredPack[] {
    return this.packTable;
  }

  has(kind: PluginKind, type: string): boolean {
    return this.byKind.get(kind)?.has(type) ?? false;
  }

  /** The plugin, or a located error listing the registered types and the closest name. */
  get(kind: PluginKind, type: string, where?: { key?: string; file?: string; line?: number; column?: number }): AnyPlugin {
    const found = this.byKind.get(kind)?.get(type);
    if (found) return found.plugin;
    const types = this.types(kind);
    const suggestion = didYouMean(type, types);
    throw new AblateError('plugin.unknown-type', `unknown ${kind} type '${type}'`, {
      where,
      hint: `${suggestion ? `did you mean '${suggestion}'? ` : ''}registered ${kind} types: ${types.join(', ') || '(none)'}`,
    });
  }

  source(kind: PluginKind, type: string): string | undefined {
    return this.byKind.get(kind)?.get(type)?.source;
  }

  types(kind: PluginKind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }

  list(kind?: PluginKind): RegisteredPlugin[] {
    const kinds = kind ? [kind] : this.kinds();
    return kinds.flatMap((k) => [...(this.byKind.get(k)?.values() ?? [])].sort((a, b) => a.plugin.type.localeCompare(b.plugin.type)));
  }
}

/** The closest candidate within a typo's distance, for "did you mean" hints. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(word, candidates as string[]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function checkShape(plugin: AnyPlugin, source: string, kinds: readonly string[]): void {
  const problems: string[] = [];
  if (typeof plugin !== 'object' || plugin === null) problems.push('it is not an object');
  else {
    if (typeof plugin.kind !== 'string' || !kinds.includes(plugin.kind)) problems.push(`kind must be one of ${kinds.join(', ')} (got ${JSON.stringify(plugin.kind)})`);
    if (typeof plugin.type !== 'string' || !/^[a-z][a-z0-9_.-]*$/i.test(plugin.type)) problems.push(`type must be a name like 'my-loss' (got ${JSON.stringify(plugin.type)})`);
    if (typeof plugin.description !== 'string' || plugin.description.length === 0) problems.push('description is missing');
    if (typeof plugin.options !== 'object' || plugin.options === null) problems.push('options must be a JSON Schema object');
    if (typeof plugin.create !== 'function') problems.push('create must be a function');
  }
  if (problems.length > 0) {
    throw new AblateError('plugin.invalid', `invalid plugin from ${source}: ${problems.join('; ')}`, {
      hint: 'A plugin module exports definePlugin({ kind, type, description, options, create }) objects, or a definePack({ name, plugins, kinds, slots }).',
    });
  }
}
