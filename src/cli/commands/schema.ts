/**
 * `ablate schema`: writes the editor schemas (src/config/editor-schema.ts) composed from the
 * built-in plugins to `schemas/`: experiment.schema.json and the `_base_` fragment variant.
 * Experiment files point at them with a modeline,
 *   # yaml-language-server: $schema=../schemas/experiment.schema.json
 * so editors complete plugin names and options. `--check` fails when the files on disk are stale.
 *
 * `ablate schema --experiment <file>` writes one file's schema, with the user plugins its
 * `plugins:` lists (and its bases'), next to it as `<name>.schema.json`; the file's modeline then
 * names that. Like `validate`, this imports those plugin modules (it is what the user asked for);
 * plain `ablate schema` imports none.
 */
import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../../errors.js';
import { print } from '../options.js';
import { rel } from '../format.js';

const json = (schema: unknown) => `${JSON.stringify(schema, null, 2)}\n`;

/** File name → content, exactly as `ablate schema` writes them. */
export async function schemaFiles(): Promise<Record<string, string>> {
  const { builtinRegistry } = await import('../../plugin/bootstrap.js');
  const { composeEditorSchema } = await import('../../config/editor-schema.js');
  const registry = await builtinRegistry();
  return {
    'experiment.schema.json': json(composeEditorSchema(registry)),
    'fragment.schema.json': json(composeEditorSchema(registry, { fragment: true })),
  };
}

/** Where `ablate schema --experiment <file>` writes by default: `<name>.schema.json` beside it. */
export function experimentSchemaPath(file: string): string {
  return path.join(path.dirname(path.resolve(file)), `${path.basename(file).replace(/\.ya?ml$/, '')}.schema.json`);
}

/** One file's editor schema: the built-ins plus the user plugins it (or a base) lists. */
export async function experimentSchemaText(file: string): Promise<string> {
  const { experimentPluginSpecs, isFragmentFile } = await import('../../config/load.js');
  const { registryFor } = await import('../../plugin/bootstrap.js');
  const { composeEditorSchema } = await import('../../config/editor-schema.js');
  const registry = await registryFor(experimentPluginSpecs(file));
  // The name as the user's project sees it (portable: the same on every checkout).
  const name = path.basename(file);
  return json(composeEditorSchema(registry, { fragment: isFragmentFile(file), experiment: name }));
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Writes each stale file (or, with `check`, only lists it); the list of stale files. */
function writeStale(files: Record<string, string>, check: boolean | undefined): string[] {
  const stale: string[] = [];
  for (const [target, text] of Object.entries(files)) {
    if (readOrUndefined(target) === text) continue;
    stale.push(target);
    if (!check) {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, text);
      print(`wrote ${rel(target)}`);
    }
  }
  return stale;
}

/** The hint when the experiment's modeline does not name the schema just written. */
function modelineHint(file: string, schemaFile: string): string | undefined {
  const relative = path.relative(path.dirname(path.resolve(file)), schemaFile).split(path.sep).join('/');
  const wanted = relative.startsWith('.') ? relative : `./${relative}`;
  const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readOrUndefined(file) ?? '');
  if (line && path.resolve(path.dirname(path.resolve(file)), line[1]!) === schemaFile) return undefined;
  return `point ${rel(file)}'s first line at it: # yaml-language-server: $schema=${wanted}`;
}

export function register(program: Command): void {
  program
    .command('schema')
    .description('write the editor schemas (schemas/experiment.schema.json, fragment.schema.json) from the registered plugins')
    .option('-o, --out <path>', 'output folder (default: the schemas/ folder of ablate); with --experiment, the output file')
    .option('-e, --experiment <file>', "one file's schema, including the user plugins its plugins: lists (imports them, like validate)")
    .option('--check', 'do not write; exit 1 if the files on disk are stale')
    .action(async (opts: { out?: string; experiment?: string; check?: boolean }) => {
      let files: Record<string, string>;
      let hint: string | undefined;
      if (opts.experiment) {
        const target = path.resolve(opts.out ?? experimentSchemaPath(opts.experiment));
        files = { [target]: await experimentSchemaText(opts.experiment) };
        hint = modelineHint(opts.experiment, target);
      } else {
        const { packageRoot } = await import('../../package-root.js');
        const dir = path.resolve(opts.out ?? path.join(packageRoot(), 'schemas'));
        files = Object.fromEntries(Object.entries(await schemaFiles()).map(([name, text]) => [path.join(dir, name), text]));
      }
      const stale = writeStale(files, opts.check);
      if (opts.check && stale.length > 0) {
        const again = opts.experiment ? `npx ablate schema --experiment ${opts.experiment}` : 'npx ablate schema';
        throw new AblateError('schema.stale', `stale schema file(s): ${stale.map(rel).join(', ')}`, { hint: `run \`${again}\` and commit the result`, exitCode: 1 });
      }
      if (stale.length === 0) print(`schema${Object.keys(files).length > 1 ? 's' : ''} up to date: ${Object.keys(files).map(rel).join(', ')}`);
      if (hint) print(hint);
    });
}
