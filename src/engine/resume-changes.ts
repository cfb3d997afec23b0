/**
 * What a resumed run may change. Continuing from a checkpoint is meaningful only while the
 * checkpoint's tensors and the data they were trained on stay what they were; how the next steps
 * optimise may change (the usual fix after a divergence is a lower learning rate).
 *
 * The rule (docs/engine.md, "Resuming with changed optimisation values"):
 *   - any option of an optimizer or scheduler slot except its `type` (the optimizer's state tensors
 *     belong to its type);
 *   - any plugin option whose schema marks it `x-resumable: true` (e.g. a loss weight);
 *   - nothing else: model, dataset, trainer structure, seed, iterations … stay refused.
 */
import type { PluginRegistry } from '../plugin/registry.js';
import { diffConfigs } from '../config/canonical.js';
import { isPlainObject } from '../config/paths.js';

export interface ConfigChange {
  key: string;
  from: unknown;
  to: unknown;
}

/** Kinds whose options only say how to optimise. */
const OPTIMISATION_KINDS = new Set(['optimizer', 'scheduler']);

function optionSchema(registry: PluginRegistry, kind: string, type: unknown, option: string): Record<string, unknown> | undefined {
  if (typeof type !== 'string' || !registry.hasKind(kind) || !registry.has(kind, type)) return undefined;
  const props = (registry.get(kind, type).options as { properties?: Record<string, unknown> } | undefined)?.properties;
  const s = props?.[option];
  return isPlainObject(s) ? s : undefined;
}

function at(config: Record<string, unknown>, segments: readonly string[]): unknown {
  let v: unknown = config;
  for (const s of segments) v = isPlainObject(v) ? v[s] : undefined;
  return v;
}

/** Whether one changed dotted key may differ between a checkpoint's config and the resuming one. */
function resumable(key: string, before: Record<string, unknown>, after: Record<string, unknown>, registry: PluginRegistry): boolean {
  const seg = key.split('.');
  const slot = registry.slot(seg[0]!);
  const map = registry.mapSlots().get(seg[0]!);
  // [component path, option name]: `optimizer.lr` → ([optimizer], lr); `losses.seg.weight` → ([losses, seg], weight).
  const owner = slot ? seg.slice(0, 1) : map ? seg.slice(0, 2) : undefined;
  const kind = slot?.kind ?? map?.kind;
  if (!owner || !kind || seg.length <= owner.length) return false;
  const option = seg[owner.length]!;
  if (option === 'type') return false;
  const typeBefore = at(before, [...owner, 'type']);
  if (typeBefore !== at(after, [...owner, 'type'])) return false;
  if (OPTIMISATION_KINDS.has(kind)) return true;
  return optionSchema(registry, kind, typeBefore, option)?.['x-resumable'] === true;
}

/** The differences between two resolved configs, split into what a resume may and may not change. */
export function resumeChanges(before: Record<string, unknown>, after: Record<string, unknown>, registry: PluginRegistry): { allowed: ConfigChange[]; refused: ConfigChange[] } {
  const d = diffConfigs(before, after);
  const all: ConfigChange[] = [
    ...d.changed.map((c) => ({ key: c.key, from: c.a, to: c.b })),
    ...d.added.map((c) => ({ key: c.key, from: undefined, to: c.value })),
    ...d.removed.map((c) => ({ key: c.key, from: c.value, to: undefined })),
  ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const allowed: ConfigChange[] = [];
  const refused: ConfigChange[] = [];
  for (const c of all) (resumable(c.key, before, after, registry) ? allowed : refused).push(c);
  return { allowed, refused };
}

export function describeChange(c: ConfigChange): string {
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return `${c.key} ${show(c.from)} → ${show(c.to)}`;
}
