/**
 * `ablate schema`: writes the experiment JSON Schema (and the `_base_` fragment variant) composed
 * from the built-in plugins to `schemas/`. Experiment files point at it with a modeline,
 *   # yaml-language-server: $schema=../schemas/experiment.schema.json
 * so editors complete plugin names and options. `--check` fails when the committed files are stale.
 */
import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../../errors.js';
import { print } from '../options.js';

/** File name → content, exactly as `ablate schema` writes them. */
export async function schemaFiles(): Promise<Record<string, string>> {
  const { builtinRegistry } = await import('../../plugin/bootstrap.js');
  const { composeExperimentSchema } = await import('../../config/schema.js');
  const registry = await builtinRegistry();
  return {
    'experiment.schema.json': `${JSON.stringify(composeExperimentSchema(registry), null, 2)}\n`,
    'fragment.schema.json': `${JSON.stringify(composeExperimentSchema(registry, { fragment: true }), null, 2)}\n`,
  };
}

export function register(program: Command): void {
  program
    .command('schema')
    .description('write schemas/experiment.schema.json (+ fragment.schema.json) from the registered plugins')
    .option('-o, --out <dir>', 'output folder (default: the schemas/ folder of ablate)')
    .option('--check', 'do not write; exit 1 if the files on disk are stale')
    .action(async (opts: { out?: string; check?: boolean }) => {
      const { packageRoot } = await import('../../package-root.js');
      const dir = path.resolve(opts.out ?? path.join(packageRoot(), 'schemas'));
      const files = await schemaFiles();
      const stale: string[] = [];
      for (const [name, text] of Object.entries(files)) {
        const target = path.join(dir, name);
        let current: string | undefined;
        try {
          current = readFileSync(target, 'utf8');
        } catch {
          current = undefined;
        }
        if (current === text) continue;
        stale.push(target);
        if (!opts.check) {
          mkdirSync(dir, { recursive: true });
          writeFileSync(target, text);
          print(`wrote ${target}`);
        }
      }
      if (opts.check && stale.length > 0) {
        throw new AblateError('schema.stale', `stale schema file(s): ${stale.join(', ')}`, { hint: 'run `npx ablate schema` and commit the result', exitCode: 1 });
      }
      if (stale.length === 0) print(`schemas up to date in ${dir}`);
    });
}
