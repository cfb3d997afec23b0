/**
 * When a layer changes a component's `type` (`scheduler: {type: constant}` over a `poly`), the
 * merge keeps every inherited option; here, with the registry known, the ones the new plugin does
 * not accept are dropped. Shared options (`lr`, a trainer's `iterations`) survive the switch, so an
 * ablation that swaps a plugin changes nothing else by accident, and stale options of the old
 * plugin (`power`, `momentum`) neither fail validation nor linger. What was dropped is noted in
 * the provenance of the component's `type`.
 */
import type { ConfigState } from './merge.js';
import { isPlainObject, isUnder } from './paths.js';
import type { PluginKind } from '../plugin/kinds.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { LIST_SLOTS } from '../plugin/slots.js';

/** The plugin kind expected at a path, when the path is a slot or an entry of a map or list slot. */
function kindAt(path: string, registry: PluginRegistry): PluginKind | undefined {
  const segs = path.split('.');
  if (segs.length === 1) return registry.slot(segs[0]!)?.kind;
  if (segs.length === 2) return registry.mapSlots().get(segs[0]!)?.kind ?? (/^\d+$/.test(segs[1]!) ? LIST_SLOTS[segs[0]!]?.kind : undefined);
  return undefined;
}

/** Option names the plugin(s) called `type` accept; undefined when any of them is open-ended. */
function acceptedOptions(registry: PluginRegistry, type: string, kind: PluginKind | undefined): Set<string> | undefined {
  const candidates = registry.list(kind).filter((r) => r.plugin.type === type);
  if (candidates.length === 0) return undefined; // unknown type: validation reports it
  const names = new Set<string>(['type']);
  for (const { plugin } of candidates) {
    const props = plugin.options.properties;
    if (!isPlainObject(props) || plugin.options.additionalProperties !== false) return undefined;
    for (const k of Object.keys(props)) names.add(k);
  }
  return names;
}

export function pruneSwitchedComponents(state: ConfigState, registry: PluginRegistry): void {
  for (const [path, { from: oldType, inherited }] of state.switched) {
    const node = getAt(state.tree, path);
    if (!isPlainObject(node) || typeof node.type !== 'string') continue;
    const accepted = acceptedOptions(registry, node.type, kindAt(path, registry));
    if (!accepted) continue;
    // Only options inherited from below the switch, and untouched since, are the old plugin's.
    const stale = (k: string) => inherited.has(k) && state.originOf(`${path}.${k}`) === inherited.get(k);
    const dropped = Object.keys(node).filter((k) => !accepted.has(k) && stale(k));
    for (const k of dropped) {
      delete node[k];
      for (const p of [...state.prov.keys()]) if (p === `${path}.${k}` || isUnder(p, `${path}.${k}`)) state.prov.delete(p);
    }
    const typeProv = state.prov.get(`${path}.type`);
    if (typeProv) {
      const note = `replaced '${oldType}'${dropped.length ? `; dropped its options ${dropped.join(', ')}` : ''}`;
      state.prov.set(`${path}.type`, { ...typeProv, origin: { ...typeProv.origin, note: typeProv.origin.note ? `${typeProv.origin.note}; ${note}` : note } });
    }
  }
}

function getAt(tree: Record<string, unknown>, path: string): unknown {
  let v: unknown = tree;
  for (const s of path.split('.')) {
    if (!isPlainObject(v)) return undefined;
    v = v[s];
  }
  return v;
}
