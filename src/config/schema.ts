/**
 * The experiment JSON Schema, composed from the core blocks and every registered plugin. Each place
 * that takes a component (a slot, a map slot entry, a `componentSchema(kind)` marker inside some
 * plugin's options) becomes the union of that kind's plugins, discriminated by `type`; ajv then
 * checks only the chosen plugin's options (no "one of 12 schemas failed" walls), and editors
 * complete plugin names and their options from the same file.
 */
import type { JsonSchema } from '../plugin/define.js';
import type { PluginKind } from '../plugin/kinds.js';
import { AblateError } from '../errors.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { LIST_SLOTS } from '../plugin/slots.js';
import { runtimeOptionsSchema } from '../runtime/schema.js';
import { engineBlocksSchema } from './engine-blocks.js';

export const SCHEMA_ID = 'urn:ablate:schema:experiment';

/** Keys with a merge operator (`key+`, `key~`) are legal in files; the editor schema allows them. */
const OPERATOR_KEYS = { '^[A-Za-z_][\\w-]*[+~]$': { description: '`key+: [..]` appends to an inherited list; `key~:` deletes an inherited key.' } };

export interface ComposeOptions {
  /** A fragment schema (for `_base_/` files): nothing is required except each component's `type`. */
  fragment?: boolean;
}

export const componentRef = (kind: PluginKind) => `#/$defs/component.${kind}`;

/** Replaces `componentSchema(kind)` markers with references to the kind's union. */
function resolveMarkers(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(resolveMarkers);
  if (schema === null || typeof schema !== 'object') return schema;
  const obj = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const marker = obj['x-ablate-component'];
  if (typeof marker === 'string') out.$ref = componentRef(marker as PluginKind);
  for (const [k, v] of Object.entries(obj)) if (k !== 'x-ablate-component') out[k] = resolveMarkers(v);
  return out;
}

function stripRequired(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(stripRequired);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === 'required' && Array.isArray(v)) {
      if (v.includes('type')) out[k] = ['type'];
      continue;
    }
    out[k] = stripRequired(v);
  }
  return out;
}

export function composeExperimentSchema(registry: PluginRegistry, opts: ComposeOptions = {}): JsonSchema {
  const defs: Record<string, unknown> = {};
  for (const kind of registry.kinds()) {
    const plugins = registry.list(kind);
    const branches: unknown[] = [];
    for (const { plugin, source } of plugins) {
      const options = resolveMarkers(plugin.options) as Record<string, unknown>;
      const props = (options.properties ?? {}) as Record<string, unknown>;
      const { $schema: _s, $id: _i, ...rest } = options;
      defs[`${kind}.${plugin.type}`] = {
        ...rest,
        type: 'object',
        title: `${kind} '${plugin.type}'`,
        description: plugin.description + (source === 'builtin' ? '' : ` (from ${source})`),
        properties: { type: { const: plugin.type, description: plugin.description }, ...props },
        required: ['type', ...((options.required as string[] | undefined) ?? []).filter((r) => r !== 'type')],
        patternProperties: OPERATOR_KEYS,
        additionalProperties: options.additionalProperties ?? false,
      };
      branches.push({ $ref: `#/$defs/${kind}.${plugin.type}` });
    }
    defs[`component.${kind}`] =
      branches.length > 0
        ? { type: 'object', 'x-ablate-kind': kind, description: `A ${kind}: \`type\` picks the plugin (${plugins.map((p) => p.plugin.type).join(', ')}).`, required: ['type'], discriminator: { propertyName: 'type' }, oneOf: branches }
        : { 'x-ablate-kind': kind, description: `A ${kind} (no ${kind} plugins are registered).`, not: {} };
  }

  const properties: Record<string, unknown> = {
    extends: {
      description: 'Files this experiment builds on (relative to this file), merged in order before its own keys; later wins.',
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    },
    name: { type: 'string', description: 'The experiment name (the experiment that trackers log its runs to).' },
    seed: { type: 'integer', minimum: 0, default: 0, description: 'Global seed; every component derives its own stable seed from it.' },
    plugins: {
      type: 'array',
      default: [],
      items: { type: 'string' },
      description: 'User plugin modules: paths relative to the file that lists them, or npm package names.',
    },
    runtime: { ...runtimeOptionsSchema, default: {} },
  };
  // Slots come from the registry: the core's and those the registered packs contribute.
  for (const [slot, spec] of registry.slots()) {
    if (slot in properties) throw new AblateError('plugin.slot-clash', `the slot '${slot}' clashes with the experiment's own '${slot}:' block`, { hint: 'a pack must name its slots differently' });
    properties[slot] = { $ref: componentRef(spec.kind), description: spec.description + (spec.default ? ` Default: {type: ${spec.default.type}}.` : '') };
  }
  for (const [slot, spec] of registry.mapSlots()) {
    if (slot in properties) throw new AblateError('plugin.slot-clash', `the slot '${slot}' clashes with the experiment's own '${slot}:' block`, { hint: 'a pack must name its slots differently' });
    properties[slot] = { type: 'object', description: spec.description, additionalProperties: { $ref: componentRef(spec.kind) }, patternProperties: OPERATOR_KEYS };
  }
  for (const [slot, spec] of Object.entries(LIST_SLOTS)) {
    if (slot in properties) throw new AblateError('plugin.slot-clash', `the slot '${slot}' clashes with the core's list '${slot}:'`, { hint: 'a pack must name its slots differently' });
    properties[slot] = { type: 'array', description: `${spec.description} Default: [${spec.default.map((d) => `{type: ${d.type}}`).join(', ')}].`, items: { $ref: componentRef(spec.kind) } };
    // Files may still use the former spelling (read as a one-element list before validation).
    if (spec.formerly) properties[spec.formerly] = { $ref: componentRef(spec.kind), deprecated: true, description: `Former spelling of \`${slot}: [...]\` (a one-element list).` };
  }
  for (const [block, schema] of Object.entries(engineBlocksSchema)) {
    if (block in properties) throw new AblateError('plugin.slot-clash', `the slot '${block}' clashes with the engine's '${block}:' block`, { hint: 'a pack must name its slots differently' });
    properties[block] = schema;
  }
  properties.sweep = {
    type: 'object',
    description: 'A sweep: grid axes × named variants, minus exclusions. Every cell is resolved and validated before anything runs.',
    additionalProperties: false,
    properties: {
      grid: { type: 'object', description: 'Dotted key → list of values; the cells are the cartesian product.', additionalProperties: { type: 'array', minItems: 1 } },
      variants: { type: 'object', description: 'Named diffs (dotted keys or nested maps; `key+`/`key~` work too).', additionalProperties: { type: ['object', 'null'] } },
      variant_axis: { type: 'string', default: 'variant', description: 'Label of the variants axis in cell names (e.g. `method`).' },
      exclude: { type: 'array', description: 'Partial cells to drop: {axis label: value, ...}.', items: { type: 'object' } },
    },
  };

  let schema: JsonSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: opts.fragment ? SCHEMA_ID.replace('experiment', 'fragment') : SCHEMA_ID,
    title: opts.fragment ? 'ablate experiment fragment (_base_)' : 'ablate experiment',
    description: 'An ablate experiment. Generated by `ablate schema` from the registered plugins: do not edit.',
    type: 'object',
    properties,
    patternProperties: OPERATOR_KEYS,
    additionalProperties: false,
    required: [...registry.slots()].filter(([, s]) => s.required).map(([k]) => k),
    $defs: defs,
  };
  if (opts.fragment) schema = stripRequired(schema) as JsonSchema;
  return schema;
}
