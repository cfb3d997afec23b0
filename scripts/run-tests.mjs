// `npm test`: runs every test/**/*.test.ts with node's built-in runner (through tsx) and forwards
// its exit code. Node prints its standard closing summary (`# tests N`, `# pass N`, `# fail N`).
// Extra arguments are passed to node (e.g. `npm test -- --test-name-pattern=atrous`); plain paths
// or substrings narrow the file list (e.g. `npm test -- test/runtime`).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(full));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const args = process.argv.slice(2);
const nodeFlags = args.filter((a) => a.startsWith('-'));
const filters = args.filter((a) => !a.startsWith('-'));
let files = findTests(path.join(root, 'test'))
  .map((f) => path.relative(root, f))
  .sort();
if (filters.length > 0) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`run-tests: no test files found${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

// One file at a time by default: the machine has 2 cores and the native TensorFlow backend uses
// both; parallel files mostly fight over them. TEST_CONCURRENCY overrides.
const concurrency = process.env.TEST_CONCURRENCY ?? '1';
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...nodeFlags, ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  },
);
if (res.error) {
  console.error(`run-tests: could not start node: ${res.error.message}`);
  process.exit(1);
}
process.exit(res.status ?? 1);
