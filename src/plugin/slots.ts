/**
 * Where components sit in an experiment. A slot is a top-level key (or a key inside a map such as
 * `losses.seg`) that holds one component of a given kind. Slots are generic roles, not models: the
 * core knows that an optimizer serves a network and a scheduler serves an optimizer, nothing more.
 * The tables below are the core's; plugin packs add slots of their own, and the registry holds
 * the union (PluginRegistry.slots()).
 */
import type { PluginKind } from './kinds.js';

export interface SlotSpec {
  kind: PluginKind;
  description: string;
  /** The slot whose component this one serves; handed to the plugin as `ctx.target()`. */
  target?: string;
  /** Used when the experiment omits the slot. */
  default?: { type: string };
  required?: boolean;
}

export interface MapSlotSpec {
  kind: PluginKind;
  description: string;
}

/** The core's single-component slots, by top-level key. */
export const SLOTS: Readonly<Record<string, SlotSpec>> = {
  model: { kind: 'model', required: true, description: 'The network being trained.' },
  optimizer: { kind: 'optimizer', target: 'model', required: true, description: "Optimises the model's parameter groups." },
  scheduler: { kind: 'scheduler', target: 'optimizer', default: { type: 'constant' }, description: "Sets the optimizer's learning rate each iteration." },
  dataset: { kind: 'dataset', required: true, description: 'Training and evaluation data.' },
  trainer: { kind: 'trainer', required: true, description: 'What happens in one training iteration.' },
  launcher: { kind: 'launcher', default: { type: 'local' }, description: 'How the cells of a sweep are run.' },
};

/** The core's map slots: a top-level key whose every entry is a named component of one kind. */
export const MAP_SLOTS: Readonly<Record<string, MapSlotSpec>> = {
  losses: { kind: 'loss', description: 'Named losses; trainers look them up by name (e.g. `seg`).' },
  metrics: { kind: 'metric', description: 'Named evaluation metrics, each reporting one or more scalars.' },
};

/**
 * List slots: a top-level key holding an ordered list of components of one kind (`trackers.0`,
 * `trackers.1` … as slot names). `formerly` is an older single-component spelling of the key that
 * a config may still use: it is read as a one-element list (see config/former-spellings.ts).
 */
export interface ListSlotSpec {
  kind: PluginKind;
  description: string;
  default: readonly { type: string }[];
  formerly?: string;
}

export const LIST_SLOTS: Readonly<Record<string, ListSlotSpec>> = {
  trackers: {
    kind: 'tracker',
    default: [{ type: 'local' }],
    formerly: 'tracker',
    description: 'Where runs are tracked besides their local record (which is always written first): each sink is fed from the record.',
  },
};

/** A slot that defaults only makes sense when its target is configured (no optimizer → no scheduler). */
export function slotIsActive(slots: ReadonlyMap<string, SlotSpec>, slot: string, configured: (slot: string) => boolean): boolean {
  const spec = slots.get(slot);
  if (!spec) return false;
  if (configured(slot)) return true;
  if (!spec.default) return false;
  return spec.target === undefined || slotIsActive(slots, spec.target, configured);
}
