/**
 * `npm run bench`: every benchmark, one after another (they share 2 cores, so never in parallel),
 * each writing its section of bench/RESULTS.md. Pass names to run a subset:
 * `npm run bench -- iteration data`.
 */
import { spawnSync } from 'node:child_process';

const benches: Record<string, string[]> = {
  config: ['bench/config.ts'],
  data: ['bench/data.ts', '--write'],
  iteration: ['bench/iteration.ts'],
  trainers: ['bench/trainers.ts', '--write'],
  backends: ['bench/backends.ts'],
  tracking: ['bench/tracking.ts'],
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const [name, args] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n=== bench ${name}: node --import tsx ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (r.status !== 0) {
    failed++;
    console.error(`=== bench ${name} failed (exit ${r.status ?? r.signal})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
