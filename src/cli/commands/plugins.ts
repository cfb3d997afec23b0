/**
 * `ablate plugins [kind]`: every registered plugin with its description and options (type,
 * default, description), straight from its schema: the schema is the documentation.
 */
import type { Command } from 'commander';
import { AblateError } from '../../errors.js';
import { print } from '../options.js';

type Schema = Record<string, unknown>;

function typeOf(s: Schema): string {
  if (typeof s['x-ablate-component'] === 'string') return `<${s['x-ablate-component']}>`;
  // A file or folder, relative to the config file that sets it.
  if (s.format === 'path') return Array.isArray(s.type) ? s.type.map((t) => (t === 'string' ? 'path' : t)).join('|') : 'path';
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'array' && s.items && typeof s.items === 'object') return `${typeOf(s.items as Schema)}[]`;
  if (Array.isArray(s.type)) return s.type.join('|');
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) return ((s.anyOf ?? s.oneOf) as Schema[]).map(typeOf).join('|');
  return 'any';
}

export function register(program: Command): void {
  program
    .command('plugins')
    .description('list registered plugins with their options, defaults and descriptions')
    .argument('[kind]', 'only this kind (model, optimizer, scheduler, loss, dataset, transform, metric, trainer, ...)')
    .option('--experiment <file>', "also load that experiment's plugins: list")
    .option('--json', 'JSON output')
    .action(async (kind: string | undefined, opts: { json?: boolean; experiment?: string }) => {
      const { didYouMean } = await import('../../plugin/registry.js');
      let registry;
      if (opts.experiment) registry = (await (await import('../../config/load.js')).loadExperiment(opts.experiment)).registry;
      else registry = await (await import('../../plugin/bootstrap.js')).schemaRegistry(); // schemas only: no TensorFlow.js import
      const kinds = registry.kinds();
      if (kind !== undefined && !registry.hasKind(kind)) {
        const near = didYouMean(kind, kinds);
        throw new AblateError('cli.unknown-kind', `unknown plugin kind '${kind}'`, { hint: `${near ? `did you mean '${near}'? ` : ''}kinds: ${kinds.join(', ')}` });
      }
      const list = registry.list(kind);
      if (opts.json) {
        print(JSON.stringify(list.map(({ plugin, source }) => ({ kind: plugin.kind, type: plugin.type, description: plugin.description, source, options: plugin.options })), null, 2));
        return;
      }
      let lastKind = '';
      for (const { plugin, source } of list) {
        if (plugin.kind !== lastKind) {
          print(`\n${plugin.kind}`);
          lastKind = plugin.kind;
        }
        print(`  ${plugin.type}${source === 'builtin' ? '' : `  [${source}]`}  ${plugin.description}`);
        const props = ((plugin.options as Schema).properties ?? {}) as Record<string, Schema>;
        const required = new Set(((plugin.options as Schema).required as string[] | undefined) ?? []);
        for (const [name, s] of Object.entries(props)) {
          const def = s.default !== undefined ? ` = ${JSON.stringify(s.default)}` : required.has(name) ? ' (required)' : '';
          print(`      ${name}: ${typeOf(s)}${def}${s.description ? `  ${s.description}` : ''}`);
        }
      }
      if (list.length === 0) print(kind ? `no ${kind} plugins registered` : 'no plugins registered');
      // What packs add besides plugins: the kinds and experiment slots above come from them.
      for (const pack of kind ? [] : registry.packs()) {
        print(`\npack ${pack.name}${pack.source === 'builtin' ? '' : `  [${pack.source}]`}`);
        if (pack.kinds.length > 0) print(`  kinds: ${pack.kinds.join(', ')}`);
        for (const [slot, spec] of Object.entries(pack.slots)) {
          print(`  slot ${slot}: ${spec.kind}${spec.target ? ` serving ${spec.target}` : ''}${spec.default ? ` = {type: ${spec.default.type}}` : ''}  ${spec.description}`);
        }
        for (const [slot, spec] of Object.entries(pack.mapSlots)) print(`  map slot ${slot}: named ${spec.kind} components  ${spec.description}`);
      }
    });
}
