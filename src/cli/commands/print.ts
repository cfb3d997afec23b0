/**
 * `ablate print <exp>`: the resolved config in canonical form (sorted keys, defaults filled in),
 * with `--provenance` a comment on every value saying where it came from, or `--json`.
 */
import type { Command } from 'commander';
import { withSet, print } from '../options.js';

export function register(program: Command): void {
  withSet(program.command('print').description('print the resolved experiment (canonical YAML, defaults applied)').argument('<experiment>', 'experiment file'))
    .option('-p, --provenance', 'annotate every value with where it was set')
    .option('--cell <name>', 'a cell of the sweep instead of its base')
    .option('--json', 'JSON: {file, hash, config, provenance}')
    .action(async (file: string, opts: { set: string[]; provenance?: boolean; json?: boolean; cell?: string }) => {
      const { loadCell } = await import('../../config/load.js');
      const { describeOrigin } = await import('../../config/origin.js');
      const { rel } = await import('../format.js');
      const registry = await (await import('../../plugin/bootstrap.js')).schemaRegistry();
      const exp = await loadCell(file, opts.cell, { set: opts.set, registry });
      if (opts.json) {
        print(JSON.stringify({ file: rel(exp.file), hash: exp.hash, files: exp.files.map(rel), config: exp.config, ...(opts.provenance ? { provenance: exp.provenance } : {}) }, null, 2));
        return;
      }
      let header = `# ${rel(exp.file)}${opts.cell ? ` [${opts.cell}]` : ''}  sha256:${exp.hash}`;
      if (exp.sweep && !opts.cell) header += `\n# the base of a ${exp.sweep.cells.length}-cell sweep: list the cells with \`ablate sweep ${rel(exp.file)} --dry-run\`, pick one with --cell`;
      if (!opts.provenance) {
        print(header);
        process.stdout.write(exp.canonicalYaml);
        return;
      }
      const YAML = await import('yaml');
      const doc = new YAML.Document(exp.config);
      const annotate = (node: unknown, p: string): void => {
        if (YAML.isMap(node)) {
          for (const pair of node.items) {
            const key = String((pair.key as { value: unknown }).value);
            const childPath = p ? `${p}.${key}` : key;
            const value = pair.value;
            const pr = exp.provenance[childPath];
            if (YAML.isScalar(value) || (YAML.isCollection(value) && value.items.length === 0) || (YAML.isSeq(value) && value.items.every((i) => YAML.isScalar(i)))) {
              if (YAML.isSeq(value)) value.flow = true;
              if (pr && value) (value as { comment?: string }).comment = ` ${describeOrigin(pr.origin, rel)}${pr.overrode.length ? ` (overrode ${describeOrigin(pr.overrode[0]!, rel)})` : ''}`;
            } else annotate(value, childPath);
          }
        } else if (YAML.isSeq(node)) node.items.forEach((item, i) => annotate(item, `${p}.${i}`));
      };
      annotate(doc.contents, '');
      print(header);
      process.stdout.write(doc.toString({ lineWidth: 0 }));
    });
}
