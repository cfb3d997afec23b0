/**
 * `ablate data <dataset> [--flag value ...]`: runs the command-line tool of a dataset plugin, e.g.
 * `ablate data <type> --out <folder> --train 2000` for a builder. Flags map to the tool's options schema
 * (`--some-option` → `some_option`), are typed by that schema (numbers, booleans) and validated
 * against it, so a plugin adds a tool without touching the CLI.
 */
import type { Command } from 'commander';
import { AblateError } from '../../errors.js';
import { print } from '../options.js';

type Schema = Record<string, unknown>;

/** `--out d --size 64 --overwrite --seed=3` → { out: 'd', size: '64', overwrite: true, seed: '3' } (strings, typed later). */
export function parseToolFlags(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) throw new AblateError('cli.bad-argument', `unexpected argument '${arg}'`, { hint: 'Options are written --name value (or --name=value).' });
    let name = arg.slice(2);
    let value: unknown = true;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else if (i + 1 < args.length && !(args[i + 1] as string).startsWith('--')) {
      value = args[++i];
    }
    if (name.startsWith('no-') && value === true) {
      name = name.slice(3);
      value = false;
    }
    out[name.replace(/-/g, '_')] = value;
  }
  return out;
}

/** Types the flag values by the schema and validates them; errors name the flag. */
export async function toolOptions(schema: Schema, flags: Record<string, unknown>, toolName: string): Promise<Record<string, unknown>> {
  const { didYouMean } = await import('../../plugin/registry.js');
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const key of Object.keys(flags)) {
    if (!(key in props)) {
      const near = didYouMean(key, Object.keys(props));
      throw new AblateError('cli.unknown-option', `ablate data ${toolName}: unknown option --${key.replace(/_/g, '-')}`, {
        hint: `${near ? `did you mean --${near.replace(/_/g, '-')}? ` : ''}options: ${Object.keys(props).map((k) => `--${k.replace(/_/g, '-')}`).join(', ')}`,
      });
    }
  }
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const ajv = new Ajv2020({ useDefaults: true, coerceTypes: true, allErrors: true, strict: false });
  const options = { ...flags };
  const validate = ajv.compile(schema);
  if (!validate(options)) {
    const lines = (validate.errors ?? []).map((e) => {
      const key = e.instancePath.replace(/^\//, '') || (e.params as { missingProperty?: string }).missingProperty || '';
      return `--${key.replace(/_/g, '-')}: ${e.message ?? 'invalid'}`;
    });
    throw new AblateError('cli.bad-option', `ablate data ${toolName}: ${lines.join('; ')}`, { hint: `run 'ablate data ${toolName} --help' for the options` });
  }
  return options;
}

function usage(type: string, tool: { description: string; options: Schema }): string {
  const props = (tool.options.properties ?? {}) as Record<string, Schema>;
  const required = new Set((tool.options.required as string[] | undefined) ?? []);
  const lines = [`Usage: ablate data ${type} [options]`, '', tool.description, '', 'Options:'];
  for (const [k, s] of Object.entries(props)) {
    const def = s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : required.has(k) ? ' (required)' : '';
    lines.push(`  --${k.replace(/_/g, '-').padEnd(16)} ${String(s.description ?? '')}${def}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('data')
    .description('run a dataset plugin\'s tool, e.g. one that builds its data (`ablate data` lists them)')
    .argument('[dataset]', 'dataset plugin type')
    .argument('[options...]', 'the tool\'s options as --name value')
    .allowUnknownOption(true)
    .helpOption(false)
    .action(async (type: string | undefined, rest: string[]) => {
      const registry = await (await import('../../plugin/bootstrap.js')).builtinRegistry();
      const withTools = registry.list('dataset').filter(({ plugin }) => plugin.tool);
      if (!type || type === '--help' || type === '-h') {
        print('Usage: ablate data <dataset> [options]\n\nDataset tools:');
        for (const { plugin } of withTools) print(`  ${plugin.type.padEnd(14)} ${plugin.tool?.description ?? ''}`);
        return;
      }
      const found = withTools.find(({ plugin }) => plugin.type === type);
      if (!found?.plugin.tool) {
        const { didYouMean } = await import('../../plugin/registry.js');
        const names = withTools.map(({ plugin }) => plugin.type);
        const near = didYouMean(type, names);
        throw new AblateError('cli.unknown-data-tool', `no dataset plugin '${type}' with a data tool`, { hint: `${near ? `did you mean '${near}'? ` : ''}dataset tools: ${names.join(', ') || '(none)'}` });
      }
      const tool = found.plugin.tool;
      if (rest.includes('--help') || rest.includes('-h')) {
        print(usage(type, tool));
        return;
      }
      const options = await toolOptions(tool.options, parseToolFlags(rest), type);
      const log = {
        info: (m: string) => process.stdout.write(`${m}\n`),
        warn: (m: string) => process.stderr.write(`warning: ${m}\n`),
        debug: (m: string) => (process.env.ABLATE_DEBUG ? process.stderr.write(`${m}\n`) : undefined),
      };
      await tool.run(options, log);
    });
}
