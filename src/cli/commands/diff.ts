/**
 * `ablate diff <a> <b>`: a semantic diff of two resolved experiments (after extends, references
 * and defaults): changed, added and removed keys with both values. Each side may name a sweep cell
 * as `file.yaml#cell-name`.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { print } from '../options.js';

function fmt(v: unknown): string {
  return JSON.stringify(v);
}

export function register(program: Command): void {
  program
    .command('diff')
    .description('semantic diff of two resolved experiments (file or file.yaml#sweep-cell)')
    .argument('<a>', 'experiment A')
    .argument('<b>', 'experiment B')
    .option('--json', 'JSON: {a, b, changed, added, removed}')
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      const { loadCell } = await import('../../config/load.js');
      const { diffConfigs } = await import('../../config/canonical.js');
      const { rel } = await import('../format.js');
      const registry = await (await import('../../plugin/bootstrap.js')).schemaRegistry();
      const load = (spec: string) => {
        const hash = spec.lastIndexOf('#');
        return hash > 0 ? loadCell(spec.slice(0, hash), spec.slice(hash + 1), { registry }) : loadCell(spec, undefined, { registry });
      };
      const { visitPathOptions } = await import('../../config/file-paths.js');
      const [ea, eb] = await Promise.all([load(a), load(b)]);
      const all = diffConfigs(ea.config, eb.config);
      // A path option is written relative to each experiment's folder: the same file can read
      // differently from two folders. Those are not changes.
      const files = (e: typeof ea) => {
        const m = new Map<string, string>();
        visitPathOptions(e.config, registry, (key, value) => m.set(key, path.resolve(e.baseDir, value)));
        return m;
      };
      const [fa, fb] = [files(ea), files(eb)];
      const samePath = all.changed.filter((c) => fa.has(c.key) && fa.get(c.key) === fb.get(c.key));
      const d = { ...all, changed: all.changed.filter((c) => !samePath.includes(c)), samePath };
      if (opts.json) {
        print(JSON.stringify({ a: { file: a, hash: ea.hash }, b: { file: b, hash: eb.hash }, ...d }, null, 2));
        return;
      }
      print(`--- ${a.includes('#') ? a : rel(ea.file)}  ${ea.hash.slice(0, 12)}`);
      print(`+++ ${b.includes('#') ? b : rel(eb.file)}  ${eb.hash.slice(0, 12)}`);
      for (const c of d.changed) print(`~ ${c.key}: ${fmt(c.a)} -> ${fmt(c.b)}`);
      for (const c of d.added) print(`+ ${c.key}: ${fmt(c.value)}`);
      for (const c of d.removed) print(`- ${c.key}: ${fmt(c.value)}`);
      for (const c of d.samePath) print(`= ${c.key}: ${fmt(c.a)} and ${fmt(c.b)} name the same file (${rel(fa.get(c.key)!)})`);
      const same = d.samePath.length ? `, ${d.samePath.length} path(s) written differently for the same file` : '';
      print(ea.hash === eb.hash ? 'identical (same run identity)' : `${d.changed.length} changed, ${d.added.length} added, ${d.removed.length} removed${same}`);
    });
}
