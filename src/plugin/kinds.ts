/**
 * The kinds of component an experiment is assembled from. A plugin declares exactly one kind; the
 * experiment schema offers, at each place that takes a component of a kind, the union of the
 * registered plugins of that kind, discriminated by their `type`.
 *
 * The core kinds are below. A plugin pack contributes more (`definePack({ kinds: [...] })`) and
 * types them by augmenting `ComponentOf` (contracts.ts), which is why a kind's static type is
 * "any key of ComponentOf"; which kinds exist at run time is the registry's to say.
 */
import type { ComponentOf } from './contracts.js';

export const PLUGIN_KINDS = ['model', 'optimizer', 'scheduler', 'loss', 'dataset', 'transform', 'metric', 'trainer', 'tracker', 'launcher'] as const;

export type PluginKind = keyof ComponentOf & string;
