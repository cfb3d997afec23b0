/**
 * Config benchmark: (1) resolve + validate a sweep of 120 cells built on a repository experiment
 * (ms per cell), (2) the CLI's cold start for `ablate validate <experiment>` in a child process
 * (median of several), with and without ablate's caches, next to bare node startup. Prints the
 * figures and replaces the "## Config" section of bench/RESULTS.md.
 *   node --import tsx bench/config.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandSweep } from '../src/config/index.js';
import { builtinRegistry } from '../src/plugin/bootstrap.js';
import { writeResultsSection } from './results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = path.join(root, 'experiments/voc/adv-semi.yaml');
const cliTarget = path.relative(root, base);

// 1. A 120-cell sweep: 4 fractions × 5 seeds × 3 methods × 2 λ_adv.
const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-bench-config-'));
const sweepFile = path.join(dir, 'sweep.yaml');
writeFileSync(
  sweepFile,
  `extends: ${base}
sweep:
  grid:
    dataset.labeled_fraction: [0.125, 0.25, 0.5, 1.0]
    seed: [0, 1, 2, 3, 4]
    trainer.lambda_adv: [0.01, 0.02]
  variant_axis: method
  variants:
    baseline: {trainer: {type: supervised}, discriminator~:, discriminator_optimizer~:, discriminator_scheduler~:}
    adv: {trainer: {type: adversarial}}
    adv-semi: {}
  exclude: []
`,
);
const registry = await builtinRegistry();
const t0 = performance.now();
const first = await expandSweep(sweepFile, { registry });
const firstMs = performance.now() - t0;
const runs: number[] = [];
const cpuRuns: number[] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  await expandSweep(sweepFile, { registry });
  const used = process.cpuUsage(c);
  cpuRuns.push((used.user + used.system) / 1000);
  runs.push(performance.now() - t);
}
const cells = first.length;
const warm = median(runs);
const warmCpu = median(cpuRuns);

// 2. CLI cold start: wall time, and the child's CPU time (user + sys, from GNU time when present),
// which is what the process itself costs when the shared machine is busy.
const cpuOf: number[] = [];
const gnuTime = existsSync('/usr/bin/time');
function time(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = performance.now();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', 'ABLATE_BENCH_CPU %U %S', process.execPath, ...args], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' })
    : spawnSync(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const m = /ABLATE_BENCH_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (m) cpuOf.push((Number(m[1]) + Number(m[2])) * 1000);
  return ms;
}
function timed(n: number, args: string[], env: NodeJS.ProcessEnv = {}): { wall: number; cpu: number } {
  cpuOf.length = 0;
  const wall = median(Array.from({ length: n }, () => time(args, env)));
  return { wall, cpu: cpuOf.length ? median(cpuOf) : NaN };
}
if (!existsSync(path.join(root, 'dist/src/cli/main.js'))) throw new Error('build first: npm run build');
const N = 9;
const cli = ['bin/ablate.js', 'validate', cliTarget];
time(cli); // warm the caches and the OS file cache
const nodeOnly = timed(N, ['-e', '0']);
const cold = timed(N, cli);
cpuOf.length = 0;
const uncachedWall = median(
  Array.from({ length: 5 }, () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'ablate-bench-cache-'));
    try {
      return time(cli, { ABLATE_CACHE_DIR: cache });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }),
);
const uncached = { wall: uncachedWall, cpu: cpuOf.length ? median(cpuOf) : NaN };
const folder = timed(3, ['bin/ablate.js', 'validate', 'experiments']);
rmSync(dir, { recursive: true, force: true });

const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model ?? 'unknown';
const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
const lines = [
  '## Config',
  '',
  `Machine: ${os.availableParallelism()} cores (nproc), ${cpu}, Node ${process.version}. ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Load average during the run: ${load} (the machine is shared, so times are upper bounds).`,
  '',
  '| measure | result | target |',
  '|---|---|---|',
  `| resolve + validate a ${cells}-cell sweep (extends chain of \`${cliTarget}\`, refs, defaults, ajv, canonical hash) | ${(warm / cells).toFixed(2)} ms/cell wall, ${(warmCpu / cells).toFixed(2)} ms/cell CPU (${warm.toFixed(0)} ms for the sweep, median of 5; first pass incl. schema compile ${firstMs.toFixed(0)} ms) | < 1 ms/cell |`,
  `| CLI cold start: \`ablate validate ${cliTarget}\` (child process, median of ${N}) | ${cold.wall.toFixed(0)} ms wall, ${cold.cpu.toFixed(0)} ms CPU | < 300 ms |`,
  `| same, without ablate's caches (imports the plugins, i.e. TensorFlow.js, and compiles the schema; median of 5) | ${uncached.wall.toFixed(0)} ms wall, ${uncached.cpu.toFixed(0)} ms CPU | |`,
  `| bare \`node -e 0\` on this machine (median of ${N}) | ${nodeOnly.wall.toFixed(0)} ms wall, ${nodeOnly.cpu.toFixed(0)} ms CPU | |`,
  `| \`ablate validate experiments\` (the whole folder, incl. the 33-cell table sweeps; median of 3) | ${folder.wall.toFixed(0)} ms wall, ${folder.cpu.toFixed(0)} ms CPU | |`,
  '',
  "How the cold start stays low: only the invoked command's module is imported; `validate` uses the plugins' option schemas from a cache keyed by a fingerprint of the plugin and core sources (so TensorFlow.js is not imported), and the ajv validator generated for the composed schema is cached as an ES module keyed by the schema's hash. Either cache is rebuilt automatically when stale.",
  '',
];
const section = lines.join('\n');
console.log(section);

writeResultsSection('## Config', section);
