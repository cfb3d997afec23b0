/**
 * Where components sit in an experiment. A slot is a top-level key (or a key inside a map such as
 * `losses.seg`) that holds one component of a given kind. Slots are generic roles, not models: the
 * core knows that an optimizer serves a network and a scheduler serves an optimizer, nothing more.
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

/** Single-component slots, by top-level key. */
export const SLOTS: Readonly<Record<string, SlotSpec>> = {
  model: { kind: 'model', required: true, description: 'The network being trained (the generator, in adversarial training).' },
  discriminator: { kind: 'discriminator', description: 'The discriminator of adversarial training.' },
  optimizer: { kind: 'optimizer', target: 'model', required: true, description: "Optimises the model's parameter groups." },
  scheduler: { kind: 'scheduler', target: 'optimizer', default: { type: 'constant' }, description: "Sets the optimizer's learning rate each iteration." },
  discriminator_optimizer: { kind: 'optimizer', target: 'discriminator', description: "Optimises the discriminator's parameters." },
  discriminator_scheduler: { kind: 'scheduler', target: 'discriminator_optimizer', default: { type: 'constant' }, description: "Sets the discriminator optimizer's learning rate." },
  dataset: { kind: 'dataset', required: true, description: 'Training and evaluation data.' },
  trainer: { kind: 'trainer', required: true, description: 'What happens in one training iteration.' },
  launcher: { kind: 'launcher', default: { type: 'local' }, description: 'How the cells of a sweep are run.' },
};

/** Map slots: a top-level key whose every entry is a named component of one kind. */
export const MAP_SLOTS: Readonly<Record<string, { kind: PluginKind; description: string }>> = {
  losses: { kind: 'loss', description: 'Named losses; trainers look them up by name (e.g. `seg`, `adv`, `semi`).' },
  metrics: { kind: 'metric', description: 'Named evaluation metrics (e.g. `miou`).' },
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

/** A slot that defaults only makes sense when its target is configured (no discriminator → no D scheduler). */
export function slotIsActive(slot: string, configured: (slot: string) => boolean): boolean {
  const spec = SLOTS[slot];
  if (!spec) return false;
  if (configured(slot)) return true;
  if (!spec.default) return false;
  return spec.target === undefined || slotIsActive(spec.target, configured);
}
