// The layering, enforced: src/ is the core and knows no model, data set, metric, method or paper;
// plugins/ build on the public API (src/index.ts) exactly as a user's plugin does; the core's
// module graph has no cycles, so each layer can be read (and replaced) on its own.
//
// The import graph comes from TypeScript's own pre-processor (static imports, re-exports, literal
// dynamic imports and `import('…')` types; comments and strings are not imports). Every edge
// counts, type-only ones included: a type import is a dependency of the design even when the
// emitted JavaScript drops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './support/paths.js';

const src = path.join(repoRoot, 'src');
const plugins = path.join(repoRoot, 'plugins');
const publicApi = path.join(src, 'index.ts');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

const rel = (f: string) => path.relative(repoRoot, f).split(path.sep).join('/');

/** The TypeScript file a relative specifier names (`./x.js` → `./x.ts`, `./dir` → `./dir/index.ts`). */
function resolveSpecifier(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined; // a package (node:, npm): not part of the graph
  const base = path.resolve(path.dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, path.join(base, 'index.ts'), base];
  return candidates.find((c) => existsSync(c) && c.endsWith('.ts'));
}

interface Edge {
  from: string;
  to: string;
  spec: string;
}

function importsOf(file: string): Edge[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.flatMap(({ fileName }) => {
    const to = resolveSpecifier(file, fileName);
    return to ? [{ from: file, to, spec: fileName }] : [];
  });
}

const srcFiles = tsFiles(src);
const pluginFiles = tsFiles(plugins);
const graph = new Map<string, Edge[]>([...srcFiles, ...pluginFiles].map((f) => [f, importsOf(f)]));

const inside = (dir: string, f: string) => f === dir || f.startsWith(dir + path.sep);

test('plugins/ use only the public API of src/ (src/index.ts)', () => {
  const bad = pluginFiles.flatMap((f) => graph.get(f)!.filter((e) => inside(src, e.to) && e.to !== publicApi).map((e) => `${rel(f)} imports ${rel(e.to)}`));
  assert.deepEqual(bad, [], 'a plugin must build on src/index.ts like a user plugin does; export what it needs there (or keep it in the plugin)');
});

/** Edges from the core into plugins/, each with its reason. Keep it at one. */
const SRC_TO_PLUGINS_ALLOWED: Record<string, string> = {
  'src/plugin/bootstrap.ts -> plugins/manifest.ts':
    'the composition root: the built-in manifest is imported once, lazily, to make the registry of built-ins (the design\'s "built-ins through one manifest")',
};

test('src/ does not import plugins/', () => {
  const bad = srcFiles.flatMap((f) =>
    graph
      .get(f)!
      .filter((e) => inside(plugins, e.to) && !SRC_TO_PLUGINS_ALLOWED[`${rel(f)} -> ${rel(e.to)}`])
      .map((e) => `${rel(f)} -> ${rel(e.to)}`),
  );
  assert.deepEqual(bad, [], 'the core knows no plugin; plugins register through the manifest and `plugins:`');
});

/**
 * Modules the core imports by a computed name, each with its reason. Anything else is a literal
 * import, so a broken module fails loudly with its own error instead of passing for a missing one.
 */
const COMPUTED_IMPORTS_ALLOWED: Record<string, string> = {
  'src/plugin/loader.ts': "a user's plugin modules, by the path or package name the experiment lists",
  'src/runtime/backend.ts': 'the optional native TensorFlow packages, which may not be installed',
  'src/config/validate.ts': 'compiled schema validators cached as generated modules',
};

test('src/ imports modules by literal names (computed names only where listed, with a reason)', () => {
  const computed = /\bimport\(\s*(?!['"`])/;
  const bad = srcFiles.flatMap((f) => {
    if (COMPUTED_IMPORTS_ALLOWED[rel(f)]) return [];
    // Comments are not code: drop them before looking.
    const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    return code.split('\n').flatMap((line, i) => (computed.test(line) && !/typeof import\(/.test(line) ? [`${rel(f)}: ${line.trim()}`] : []));
  });
  assert.deepEqual(bad, []);
  for (const f of Object.keys(COMPUTED_IMPORTS_ALLOWED)) assert.ok(existsSync(path.join(repoRoot, f)), `${f} is listed but gone`);
});

/** The strongly connected components with a cycle (Tarjan): each is one knot of mutual imports. */
function cycles(nodes: readonly string[], next: (v: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const inSet = new Set(nodes);
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const to of next(v)) {
      if (!inSet.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, index.get(to)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next(v).includes(v)) out.push(scc);
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return out;
}

/** One concrete cycle through a knot, as the list of its nodes from its first (sorted) back to it. */
function cyclePath(scc: readonly string[], next: (v: string) => readonly string[]): string[] {
  const members = new Set(scc);
  const start = [...scc].sort()[0]!;
  // Breadth-first back to the start: the shortest cycle through it.
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const to of next(v)) {
      if (!members.has(to)) continue;
      if (to === start) {
        const pathBack = [v];
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0]!)!);
        return [...pathBack, start];
      }
      if (!prev.has(to) && to !== start) {
        prev.set(to, v);
        queue.push(to);
      }
    }
  }
  return [...scc];
}

const fileImports = (f: string) => (graph.get(f) ?? []).map((e) => e.to);

test('src/ has no import cycles', () => {
  const found = cycles(srcFiles, fileImports).map((scc) => `${cyclePath(scc, fileImports).map(rel).join(' -> ')}   (${scc.length} module(s) in this knot)`);
  assert.deepEqual(found, [], 'break each cycle: move the shared piece down a layer, or invert the dependency');
});

/** A core module's part: its top-level folder under src/ (src/cli/commands/run.ts is `cli`), or the file itself (`errors.ts`). */
const partOf = (f: string) => path.relative(src, f).split(path.sep)[0]!;
const parts = [...new Set(srcFiles.map(partOf))].sort();
/** For each pair of parts, one file-level import that joins them (the evidence a cycle report names). */
const partEdges = new Map<string, Edge>();
for (const f of srcFiles) {
  for (const e of graph.get(f)!) {
    if (!inside(src, e.to) || partOf(e.to) === partOf(f)) continue;
    const key = `${partOf(f)} ${partOf(e.to)}`;
    if (!partEdges.has(key)) partEdges.set(key, e);
  }
}
const partImports = (p: string) => parts.filter((q) => partEdges.has(`${p} ${q}`));

test("src/'s folders have no import cycles between them (each is a layer, read and replaced on its own)", () => {
  const found = cycles(parts, partImports).map((scc) => {
    const hops = cyclePath(scc, partImports);
    return hops
      .slice(1)
      .map((to, i) => {
        const e = partEdges.get(`${hops[i]} ${to}`)!;
        return `${hops[i]} -> ${to} (${rel(e.from)} imports ${rel(e.to)})`;
      })
      .join(', ');
  });
  assert.deepEqual(found, [], 'a folder that imports another must not be imported by it, even through a third: move the shared piece into a module both can import');
});

/**
 * Words that name a model, data set, metric, method, tracker or paper. The core must not know
 * them: such knowledge belongs to the plugin that provides it. Matched case-insensitively as
 * whole words (`voc` matches VOC2012 and mini-voc, not `vocabulary`).
 */
const PAPER_WORDS = [
  'labeled_fraction',
  'miou',
  'pixel_acc',
  'voc',
  'sbd',
  'cityscapes',
  'palette',
  'discriminator',
  'advsemiseg',
  'deeplab',
  'deeplabv2',
  'resnet',
  'fcdisc',
  'mnist',
  'hung et al',
  'spec §',
  'mlflow',
];

/**
 * Allowed occurrences, each with its reason: a file or a folder (ending in `/`) and a word. Keep
 * this short: an entry is a known exception, not a place to park work.
 */
const PAPER_WORDS_ALLOWED: { where: string; word: string; reason: string }[] = [
  { where: 'src/cli/', word: 'mlflow', reason: 'the CLI names its default tracker plugin (`sync --to`, `report --from`) and tells the user how to open runs in MLflow, as slot defaults name built-in plugins' },
  { where: 'src/tracking/', word: 'mlflow', reason: "the local record follows MLflow's data model (write-once params, metric encoding, source tags); its comments say so" },
  { where: 'src/config/schema.ts', word: 'discriminator', reason: "JSON Schema's (OpenAPI) `discriminator` keyword, not a network" },
  { where: 'src/config/validate.ts', word: 'discriminator', reason: "ajv's `discriminator` keyword and error, not a network" },
  { where: 'src/config/editor-schema.ts', word: 'discriminator', reason: "JSON Schema's (OpenAPI) `discriminator` keyword, left out of the editor's unions; not a network" },
  { where: 'src/config/sweep.ts', word: 'labeled_fraction', reason: 'an example cell name in a comment; the file is the parser owner\'s (issue 17), left to them' },
  { where: 'src/config/sweep.ts', word: 'discriminator', reason: 'an example variant in a comment; the file is the parser owner\'s (issue 17), left to them' },
  { where: 'src/config/phase-errors.ts', word: 'deeplabv2', reason: 'an example in a comment; the file is the parser owner\'s (issue 17), left to them' },
];

const allowed = (file: string, word: string) => PAPER_WORDS_ALLOWED.some((a) => a.word === word && (a.where.endsWith('/') ? file.startsWith(a.where) : file === a.where));

function wordPattern(word: string): RegExp {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![a-z])${escaped}(?![a-z])`, 'i');
}

test('src/ names no model, data set, metric, method or paper', () => {
  const patterns = PAPER_WORDS.map((w) => [w, wordPattern(w)] as const);
  const bad: string[] = [];
  for (const f of srcFiles) {
    const lines = readFileSync(f, 'utf8').split('\n');
    for (const [word, re] of patterns) {
      if (allowed(rel(f), word)) continue;
      const hits = lines.flatMap((line, i) => (re.test(line) ? [i + 1] : []));
      if (hits.length > 0) bad.push(`${rel(f)}:${hits.slice(0, 5).join(',')}${hits.length > 5 ? ',…' : ''}  '${word}'`);
    }
  }
  assert.deepEqual(bad, [], 'move this knowledge into the plugin that owns it (or cite docs/ instead of a spec)');
});

test('every allow-list entry is still needed (an entry that matches nothing is removed)', () => {
  const stale = PAPER_WORDS_ALLOWED.filter((a) => {
    const re = wordPattern(a.word);
    const files = srcFiles.filter((f) => (a.where.endsWith('/') ? rel(f).startsWith(a.where) : rel(f) === a.where));
    return !files.some((f) => re.test(readFileSync(f, 'utf8')));
  });
  assert.deepEqual(stale.map((a) => `${a.where}: ${a.word}`), []);
  const edges = new Set(srcFiles.flatMap((f) => graph.get(f)!.map((e) => `${rel(f)} -> ${rel(e.to)}`)));
  assert.deepEqual(Object.keys(SRC_TO_PLUGINS_ALLOWED).filter((k) => !edges.has(k)), []);
});

test('the walker sees real imports (a guard against a test that cannot fail)', () => {
  // The public API must reach the plugin contracts; a walker that resolved nothing would pass
  // every rule above vacuously.
  const apiEdges = graph.get(publicApi)!.map((e) => rel(e.to));
  assert.ok(apiEdges.includes('src/plugin/contracts.ts'), `src/index.ts edges: ${apiEdges.join(', ')}`);
  assert.ok(pluginFiles.some((f) => graph.get(f)!.some((e) => e.to === publicApi)), 'no plugin imports src/index.ts');
  assert.deepEqual(cycles([], fileImports), []);
  // The folder graph is not empty either: the CLI reaches the config language.
  assert.ok(partImports('cli').includes('config'), `cli imports: ${partImports('cli').join(', ')}`);
});
