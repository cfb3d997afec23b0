/**
 * `ablate explain <exp> <key>`: a value, who set it (file:line with the source line, a `--set`
 * flag, an env var, a sweep cell, a schema default) and everything it overrode, most recent first.
 * For a map, every value under it.
 */
import type { Command } from 'commander';
import { AblateError } from '../../errors.js';
import { withSet, print } from '../options.js';

export function register(program: Command): void {
  withSet(program.command('explain').description('show where a resolved value came from and what it overrode').argument('<experiment>', 'experiment file').argument('<key>', 'dotted key, e.g. optimizer.lr'))
    .option('--cell <name>', 'a cell of the sweep instead of its base')
    .option('--json', 'JSON output')
    .action(async (file: string, key: string, opts: { set: string[]; json?: boolean; cell?: string }) => {
      const { loadCell } = await import('../../config/load.js');
      const { describeOrigin } = await import('../../config/origin.js');
      const { codeFrame } = await import('../../config/errors.js');
      const { getPath } = await import('../../config/paths.js');
      const { didYouMean } = await import('../../plugin/registry.js');
      const { rel } = await import('../format.js');
      const registry = await (await import('../../plugin/bootstrap.js')).schemaRegistry();
      const exp = await loadCell(file, opts.cell, { set: opts.set, registry });
      const { found, value } = getPath(exp.config, key);
      if (!found) {
        const keys = Object.keys(exp.provenance);
        const near = didYouMean(key, keys);
        throw new AblateError('cli.unknown-key', `'${key}' is not set in the resolved ${rel(exp.file)}`, { where: { key }, hint: near ? `did you mean '${near}'?` : `top-level keys: ${Object.keys(exp.config).join(', ')}` });
      }
      const keys = Object.keys(exp.provenance).filter((k) => k === key || k.startsWith(`${key}.`));
      if (opts.json) {
        print(JSON.stringify({ key, value, provenance: Object.fromEntries(keys.map((k) => [k, exp.provenance[k]])) }, null, 2));
        return;
      }
      const leafKeys = keys.filter((k) => !keys.some((o) => o.startsWith(`${k}.`)));
      const show = keys.length === 1 ? keys : leafKeys;
      for (const k of show) {
        const pr = exp.provenance[k]!;
        const v = getPath(exp.config, k).value;
        print(`${k} = ${JSON.stringify(v)}`);
        const describe = (label: string, o: typeof pr.origin) => {
          print(`  ${label} ${describeOrigin(o, rel)}`);
          if (o.file && o.line) {
            const frame = codeFrame(o.file, o.line, o.column ?? 1, 0);
            if (frame) print(frame.replace(/^/gm, '      '));
          }
        };
        describe('set by', pr.origin);
        for (const o of pr.overrode) describe('overrode', o);
      }
    });
}
