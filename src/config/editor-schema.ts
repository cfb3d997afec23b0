/**
 * The schema an editor reads (the files under schemas/, named by each YAML file's
 * `# yaml-language-server: $schema=…` modeline). The validator checks the resolved config; an editor
 * sees the raw file, before `extends` is merged and before `${…}` is resolved. So this schema is the
 * validator's (src/config/schema.ts) with two differences, and no others:
 *
 * - A file that `extends` is partial: the keys it does not set come from its bases. When `extends`
 *   is present (JSON Schema `if`/`then`/`else`), nothing is required — neither the top-level slots
 *   nor a component's `type` (an override like `trainer: {iterations: 800}` keeps the inherited
 *   type), and an untyped component may hold any option of any plugin of its kind. Without
 *   `extends` the file is complete and checked like the validator checks it. Fragments (`_base_/`)
 *   are always partial.
 * - A `${…}` reference is accepted wherever a value is expected: each value's schema becomes
 *   `anyOf: [<the real schema>, <a string holding a reference>]`, so completion still offers the
 *   real options (enum values, defaults, plugin types and options).
 *
 * `ablate validate` never uses this schema: it resolves references first and validates strictly.
 */
import type { JsonSchema } from '../plugin/define.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { SCHEMA_ID, composeExperimentSchema } from './schema.js';

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);
const mapValues = (o: Schema, f: (v: unknown) => unknown): Schema => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

/** The definition every wrapped value points at. */
const REFERENCE_DEF = 'interpolation';
const REFERENCE_SCHEMA = {
  type: 'string',
  // Contains a reference: a whole `${a.b}` keeps the referenced type, a longer string is formatted.
  pattern: '\\$\\{[^}]*\\}',
  // A comment, not a description: hover then shows the option's own description (the matched
  // branch's description would replace it).
  $comment: 'A `${key.path}` or `${env:NAME,default}` reference, resolved before validation (docs/config-language.md).',
};

/**
 * Annotations that describe the value itself. They stand outside the `anyOf` (completion takes a
 * property's description and default from there) and again on the real schema's branch: with them
 * only outside, yaml-language-server's hover names the enclosing plugin twice (`scheduler 'poly' ||
 * scheduler 'poly'`), measured with 2.0.0.
 */
const ANNOTATIONS = new Set(['title', 'description', 'markdownDescription', 'default', 'examples', 'deprecated']);
/** Keywords under which a string holding a reference could fail. */
const STRING_CONSTRAINTS = ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', 'if', 'enum', 'const', 'pattern', 'minLength', 'maxLength', 'format'];

function acceptsAnyString(s: Schema): boolean {
  if (STRING_CONSTRAINTS.some((k) => k in s)) return false;
  const t = s.type;
  return t === undefined || t === 'string' || (Array.isArray(t) && t.includes('string'));
}

/**
 * Lets every value position also hold a reference. Value positions are property, pattern-property,
 * additional-property and item schemas; the branches of a combinator and the definitions are not
 * (the value that holds them is). A plugin's `type: {const: …}` stays literal: it is the
 * discriminator that picks the plugin, and completion offers the plugin names from it.
 */
function acceptReferences(s: unknown, isValue: boolean): unknown {
  if (!isObject(s)) return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if ((k === 'properties' || k === 'patternProperties') && isObject(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, p]) => [name, k === 'properties' && name === 'type' && isObject(p) && 'const' in p ? p : acceptReferences(p, true)]));
    } else if (k === '$defs' && isObject(v)) out[k] = mapValues(v, (d) => acceptReferences(d, false));
    else if ((k === 'additionalProperties' || k === 'items' || k === 'contains') && isObject(v)) out[k] = acceptReferences(v, true);
    else if (k === 'prefixItems' && Array.isArray(v)) out[k] = v.map((i) => acceptReferences(i, true));
    else if ((k === 'anyOf' || k === 'oneOf' || k === 'allOf') && Array.isArray(v)) out[k] = v.map((b) => acceptReferences(b, false));
    else if ((k === 'then' || k === 'else') && isObject(v)) out[k] = acceptReferences(v, false);
    else out[k] = v;
  }
  if (!isValue || acceptsAnyString(out)) return out;
  const outer: Schema = {};
  const inner: Schema = {};
  for (const [k, v] of Object.entries(out)) {
    if (ANNOTATIONS.has(k)) outer[k] = v;
    inner[k] = v;
  }
  return { ...outer, anyOf: [inner, { $ref: `#/$defs/${REFERENCE_DEF}` }] };
}

/**
 * The partial form of a schema (a fragment, or a file that extends): nothing required, and a
 * component union accepts an untyped component whose options belong to some plugin of its kind
 * (`anyOf`, since without `type` several plugins may fit; with `type` only that plugin's branch can).
 */
function partial(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(partial);
  if (!isObject(s)) return s;
  const out: Schema = {};
  const union = typeof s['x-ablate-kind'] === 'string' && Array.isArray(s.oneOf);
  for (const [k, v] of Object.entries(s)) {
    if (k === 'required' && Array.isArray(v)) continue;
    if (union && k === 'discriminator') continue;
    out[union && k === 'oneOf' ? 'anyOf' : k] = partial(v);
  }
  return out;
}

/**
 * Lists a union's plugin types as `examples` of its `type`: yaml-language-server then completes
 * every one (from the branches alone it leaves out a plugin whose options hold its own kind, such
 * as `warmup` wrapping a scheduler), and `examples` adds no second diagnostic to a wrong type.
 */
function typeExamples(defs: Schema): Schema {
  return mapValues(defs, (d) => {
    if (!isObject(d) || typeof d['x-ablate-kind'] !== 'string' || !Array.isArray(d.oneOf)) return d;
    const prefix = `#/$defs/${d['x-ablate-kind']}.`;
    const types = (d.oneOf as Schema[]).map((b) => String(b.$ref).slice(prefix.length));
    return { ...d, properties: { type: { examples: types } } };
  });
}

/** Rewrites `#/$defs/X` references to `#/$defs/<prefix>X` (a second set of definitions in the same file). */
function prefixRefs(s: unknown, prefix: string): unknown {
  if (Array.isArray(s)) return s.map((x) => prefixRefs(x, prefix));
  if (!isObject(s)) return s;
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? `#/$defs/${prefix}${v.slice('#/$defs/'.length)}` : prefixRefs(v, prefix)]));
}

export interface EditorSchemaOptions {
  /** The fragment schema (`_base_/` files): always partial. */
  fragment?: boolean;
  /** For a per-file schema (`ablate schema --experiment`): its id suffix and what the title names. */
  experiment?: string;
}

const META = ['$schema', '$id', 'title', 'description', '$defs'];

export function composeEditorSchema(registry: PluginRegistry, opts: EditorSchemaOptions = {}): JsonSchema {
  const withExamples = (s: Schema): Schema => ({ ...s, $defs: typeExamples(s.$defs as Schema) });
  const complete = withExamples(composeExperimentSchema(registry) as Schema);
  const partialSchema = partial(withExamples(composeExperimentSchema(registry, { fragment: true }) as Schema)) as Schema;
  const body = (s: Schema) => Object.fromEntries(Object.entries(s).filter(([k]) => !META.includes(k)));
  const about = opts.experiment ? ` for ${opts.experiment} (with its plugins)` : '';
  const description =
    'An ablate experiment, as an editor sees the raw file (`${…}` references allowed; a file that `extends` is partial). ' +
    `Generated by \`ablate schema\`${opts.experiment ? ` --experiment ${opts.experiment}` : ''} from the registered plugins: do not edit.`;
  let schema: Schema;
  if (opts.fragment) {
    schema = { ...partialSchema, $id: SCHEMA_ID.replace('experiment', 'fragment'), title: `ablate experiment fragment (_base_)${about}`, description };
  } else {
    const P = 'partial.';
    const partialDefs = Object.fromEntries(Object.entries(prefixRefs(partialSchema.$defs, P) as Schema).map(([k, v]) => [`${P}${k}`, v]));
    schema = {
      $schema: complete.$schema,
      $id: opts.experiment ? `${SCHEMA_ID}:${opts.experiment}` : SCHEMA_ID,
      title: `ablate experiment${about}`,
      description,
      type: 'object',
      if: { required: ['extends'] },
      then: { $ref: '#/$defs/partial' },
      else: { $ref: '#/$defs/complete' },
      $defs: {
        // Titles: yaml-language-server names its "insert the required keys" completion after them.
        complete: { title: 'ablate experiment', ...body(complete) },
        partial: { title: 'ablate experiment (extends: partial)', ...(prefixRefs(body(partialSchema), P) as Schema) },
        ...(complete.$defs as Schema),
        ...partialDefs,
      },
    };
  }
  const withRefs = acceptReferences(schema, false) as Schema;
  withRefs.$defs = { ...(withRefs.$defs as Schema), [REFERENCE_DEF]: REFERENCE_SCHEMA };
  return withRefs as JsonSchema;
}
