/**
 * The kinds of component an experiment is assembled from. A plugin declares exactly one kind; the
 * experiment schema offers, at each place that takes a component of a kind, the union of the
 * registered plugins of that kind, discriminated by their `type`.
 */
export const PLUGIN_KINDS = [
  'model',
  'discriminator',
  'optimizer',
  'scheduler',
  'loss',
  'dataset',
  'transform',
  'metric',
  'trainer',
  'tracker',
  'launcher',
] as const;

export type PluginKind = (typeof PLUGIN_KINDS)[number];

export function isPluginKind(value: string): value is PluginKind {
  return (PLUGIN_KINDS as readonly string[]).includes(value);
}
