/**
 * `ablate validate <files or folders...>`: every YAML file under a folder. Experiments are resolved
 * and validated completely (a sweep: every cell); files under a `_base_/` folder are fragments,
 * checked for syntax, unknown keys and value types only. All errors of all files are printed, then
 * the exit code is 2 if any file failed.
 */
import type { Command } from 'commander';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { AblateError, AblateErrors } from '../../errors.js';
import { withSet, print } from '../options.js';
import { rel } from '../format.js';

/** Experiment files in a folder, each once: links to folders are not followed (a `l1 -> .` would loop). */
export function yamlFiles(target: string): string[] {
  let st;
  try {
    st = statSync(target);
  } catch {
    throw new AblateError('cli.not-found', `no such file or folder: ${target}`);
  }
  if (st.isFile()) return [path.resolve(target)];
  const out: string[] = [];
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path.resolve(full));
  }
  return out.sort();
}

export function register(program: Command): void {
  withSet(
    program
      .command('validate')
      .description('resolve and validate experiments (folders: every .yaml; files under _base_/ are checked as fragments)')
      .argument('<paths...>', 'experiment files or folders'),
  )
    .option('--json', 'machine-readable result')
    .action(async (paths: string[], opts: { set: string[]; json?: boolean }) => {
      const { checkFile } = await import('../../config/load.js');
      const { formatError, errorsAsJson } = await import('../format.js');
      const registry = await (await import('../../plugin/bootstrap.js')).schemaRegistry();
      const files = paths.flatMap(yamlFiles);
      if (files.length === 0) throw new AblateError('cli.no-files', `no .yaml files under ${paths.join(', ')}`);
      const results: { file: string; ok: boolean; kind?: string; cells?: number; hash?: string; errors?: unknown[] }[] = [];
      let failed = 0;
      let errorCount = 0;
      for (const file of files) {
        try {
          const r = await checkFile(file, { set: opts.set, registry });
          results.push({ file: rel(file), ok: true, kind: r.kind, cells: r.cells, hash: r.hash });
          if (!opts.json) print(`ok   ${rel(file)}  (${r.kind === 'sweep' ? `sweep, ${r.cells} cells` : r.kind === 'fragment' ? 'fragment' : `experiment ${r.hash!.slice(0, 8)}`})`);
        } catch (e) {
          if (!(e instanceof AblateError)) throw e;
          failed++;
          errorCount += e instanceof AblateErrors ? e.errors.length : 1;
          results.push({ file: rel(file), ok: false, errors: errorsAsJson(e) });
          if (!opts.json) {
            print(`FAIL ${rel(file)}`);
            process.stderr.write(`${formatError(e)}\n\n`);
          }
        }
      }
      if (opts.json) print(JSON.stringify({ ok: failed === 0, files: results }, null, 2));
      else print(`${files.length - failed}/${files.length} file(s) valid${failed ? `, ${errorCount} error(s) in ${failed} file(s)` : ''}`);
      if (failed > 0) process.exitCode = 2;
    });
}
