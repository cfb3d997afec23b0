// Fuzzing the config language (issue 17): seeded random mutations of the shipped experiment files
// (deleted lines, shifted indentation, odd scalars, unknown keys, duplicated or swapped lines,
// truncation, bytes that are not UTF-8). Every outcome must be a valid experiment or located
// AblateErrors (file:line or a key path); never another exception, a crash, or a hang. The cases
// run in a child process so that a case stuck in a loop can be stopped and named.
//   FUZZ_CASES=20000 FUZZ_SEED=1 npm test -- test/config/fuzz   (more cases, another range)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult } from './fuzz/worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const FIRST_SEED = Number(process.env.FUZZ_SEED ?? 1);
/** A case is hung when it has used this much CPU (CPU, not wall time: the machine may be busy). */
const HANG_CPU_MS = 5000;

/** CPU time (user + system) a process has used so far, from /proc; undefined where there is none. */
function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

test(`config fuzz: ${CASES} mutated experiment files give a valid experiment or located errors`, async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ablate-fuzz-'));
  cpSync(path.join(repo, 'experiments'), path.join(root, 'experiments'), { recursive: true });
  const results: CaseResult[] = [];
  let hung: { seed: number; cpuMs: number } | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const child = fork(path.join(here, 'fuzz/worker.ts'), [root, String(FIRST_SEED), String(CASES)], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += String(d)));
      let current: { seed: number; cpuAtStart: number; wallAtStart: number } | undefined;
      child.on('message', (m: { start?: number; done?: CaseResult }) => {
        if (m.start !== undefined) current = { seed: m.start, cpuAtStart: cpuMsOf(child.pid!) ?? 0, wallAtStart: Date.now() };
        if (m.done) {
          results.push(m.done);
          current = undefined;
        }
      });
      const watchdog = setInterval(() => {
        if (!current) return;
        const cpu = cpuMsOf(child.pid!);
        // Without /proc, fall back to a generous wall-clock bound.
        const used = cpu !== undefined ? cpu - current.cpuAtStart : (Date.now() - current.wallAtStart) / 6;
        if (used > HANG_CPU_MS) {
          hung = { seed: current.seed, cpuMs: used };
          child.kill('SIGKILL');
        }
      }, 250);
      child.on('exit', (code, signal) => {
        clearInterval(watchdog);
        if (hung || code === 0) resolve();
        else reject(new Error(`the fuzz worker died (${signal ?? `exit ${code}`}) during seed ${current?.seed}:\n${stderr.slice(-4000)}`));
      });
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  assert.equal(hung, undefined, `seed ${hung?.seed} hangs (${hung?.cpuMs.toFixed(0)} ms CPU): rerun with FUZZ_SEED=${hung?.seed} FUZZ_CASES=1`);
  const bad = results.filter((r) => r.outcome === 'crash' || r.outcome === 'unlocated');
  assert.deepEqual(
    bad.map((r) => `seed ${r.seed} (${r.source}): ${r.outcome}: ${r.detail.join(' | ')}`),
    [],
    'every outcome is a valid experiment or located AblateErrors',
  );
  assert.equal(results.length, CASES, 'every case ran');
  // The mutations must reach past the YAML parser, or the test proves little.
  const codes = new Set(results.flatMap((r) => r.detail.map((d) => d.split(':')[0])));
  for (const code of ['config.yaml-syntax', 'config.unknown-key', 'config.wrong-type', 'config.not-utf8']) assert.ok(codes.has(code), `no case produced ${code}`);
  assert.ok(results.some((r) => r.outcome === 'valid'), 'some mutated files are still valid');
});
