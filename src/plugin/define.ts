/**
 * The public plugin API: a plugin is a plain object saying what it is (kind, type), how it is
 * configured (a JSON Schema whose descriptions and defaults are its documentation) and how it is
 * made (a factory). No decorators and no import side effects: registering is explicit.
 */
import type { PluginKind } from './kinds.js';
import type { ComponentOf } from './contracts.js';
import type { RuntimeInfo } from '../runtime/step.js';
import type { Logger } from '../logger.js';
import type { MapSlotSpec, SlotSpec } from './slots.js';

/** A JSON Schema object (draft 2020-12 subset that ajv understands). */
export type JsonSchema = { [keyword: string]: unknown };

/** Options of one component as written in the experiment: `type` plus the plugin's options. */
export interface ComponentConfig {
  type: string;
  [option: string]: unknown;
}

export type { Logger } from '../logger.js';

/** What a factory receives besides its options. Dependencies come from here, never by hand. */
export interface BuildContext {
  /** The slot being built, e.g. `optimizer` or `losses.seg` (or a slot a pack adds). */
  readonly slot: string;
  /** A seed derived from the experiment seed and the slot, stable across runs. */
  readonly seed: number;
  /** The run folder (checkpoints, partition files, artifacts); undefined while only validating. */
  readonly runDir: string | undefined;
  /**
   * The experiment's root folder: resolve relative paths in options against it. Mark such options
   * `format: 'path'` in the schema, so that a path written in an extended file (relative to that
   * file) is rebased onto this folder before the plugin sees it.
   */
  readonly baseDir: string;
  readonly log: Logger;
  /** The run's tfjs backend and whether training steps compile (`defineStep` reads it). */
  readonly runtime: RuntimeInfo;
  /** The component this slot serves: an optimizer's network, a scheduler's optimizer. */
  target<T = unknown>(): Promise<T>;
  /** Another configured component by slot (`model`, `losses.seg` …); a clear error if absent. */
  get<K extends PluginKind>(slot: string, kind: K): Promise<ComponentOf[K]>;
  /** Whether a slot is configured in this experiment. */
  has(slot: string): boolean;
  /** Builds a nested component (e.g. a dataset's transforms) from its config. */
  build<K extends PluginKind>(kind: K, config: ComponentConfig, slot?: string): Promise<ComponentOf[K]>;
  /**
   * Builds the component configured in `slot` once more, as a new instance under the name `as`
   * (its variables are named after `as`), without knowing its type or options: e.g. a trainer's
   * EMA teacher, a second copy of whatever `model` the experiment configures. The slot's own
   * component is untouched; the new one is released with the experiment's components.
   */
  buildAgain<K extends PluginKind>(slot: string, kind: K, as: string): Promise<ComponentOf[K]>;
}

/** A one-off tool a plugin offers on the command line (`ablate data <type>` for datasets). */
export interface PluginTool<O = Record<string, unknown>> {
  description: string;
  /** Schema of the tool's options; flags `--some-option` map to `some_option`. */
  options: JsonSchema;
  run(options: O, log: Logger): Promise<void>;
}

export interface PluginDefinition<K extends PluginKind = PluginKind, O = Record<string, unknown>> {
  kind: K;
  /** The `type:` value that selects this plugin in an experiment. */
  type: string;
  /** One sentence shown by `ablate plugins` and in editor tooltips. */
  description: string;
  /** JSON Schema of the options (an object schema, without `type`). Give every property a description and, where sensible, a default. */
  options: JsonSchema;
  create(options: O, ctx: BuildContext): ComponentOf[K] | Promise<ComponentOf[K]>;
  /** Optional command-line tool (`ablate data <type>` for datasets). */
  tool?: PluginTool;
}

/** A plugin of any kind, as stored in the registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- options are validated by the schema, so the registry cannot know their static type
export type AnyPlugin = PluginDefinition<PluginKind, any>;

/** Identity function that gives a plugin object its static type. */
export function definePlugin<K extends PluginKind, O = Record<string, unknown>>(def: PluginDefinition<K, O>): PluginDefinition<K, O> {
  return def;
}

/**
 * A plugin pack: plugins that belong together (a method's trainer, losses and extra networks) plus
 * the extension points they need: new kinds of component and new slots of the experiment. A GAN-
 * style method pack, for example, contributes a `critic` kind and the `critic`, `critic_optimizer`
 * and `critic_scheduler` slots (plugins/methods/ holds real ones). A pack types a kind it adds by
 * augmenting `ComponentOf`:
 *
 *   declare module 'ablate' { interface ComponentOf { critic: Critic } }
 */
export interface PluginPack {
  /** Shown by `ablate plugins` and in clash errors. */
  readonly name: string;
  readonly plugins: readonly AnyPlugin[];
  /** Kinds of component this pack adds (names not taken by the core or another pack). */
  readonly kinds?: readonly PluginKind[];
  /** Top-level slots this pack adds, by key; their kinds are core kinds or this pack's. */
  readonly slots?: Readonly<Record<string, SlotSpec>>;
  /**
   * Map slots this pack adds, by key: each entry of the map is a named component of the slot's kind
   * (as `losses.seg` is), built as the slot `<key>.<name>`.
   */
  readonly mapSlots?: Readonly<Record<string, MapSlotSpec>>;
}

/** Identity function that gives a pack object its static type. */
export function definePack(pack: PluginPack): PluginPack {
  return pack;
}

/** What a manifest or a `plugins:` module lists: plugins and packs. */
export type PluginEntry = AnyPlugin | PluginPack;

export function isPack(entry: unknown): entry is PluginPack {
  return typeof entry === 'object' && entry !== null && Array.isArray((entry as { plugins?: unknown }).plugins) && typeof (entry as { create?: unknown }).create !== 'function';
}

/**
 * Marks a place in an options schema that takes a nested component of `kind` (e.g. a dataset's
 * transforms). The experiment schema replaces it with the union of that kind's plugins.
 */
export function componentSchema(kind: PluginKind, extra: JsonSchema = {}): JsonSchema {
  return { 'x-ablate-component': kind, ...extra };
}
