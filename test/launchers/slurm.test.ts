/**
 * The slurm launcher against a real one-node Slurm (scripts/slurm-cluster.sh): no fake sbatch.
 * Cells are tiny (the test plugins, tens of iterations) and run through `ablate run` from source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runSweep } from '../../src/cli/commands/sweep-run.js';
import { sweepCancel, sweepStatus } from '../../src/cli/commands/sweep-follow.js';
import type { CellProgress } from '../../src/engine/sweep-state.js';
import { clusterForTests } from './slurm-cluster.js';
import { slurmDir } from '../../plugins/launchers/slurm/index.js';
import { TINY_SCHEDULER, writeTinyExperiment } from '../support/tiny-experiment-file.js';
import { serverForTests } from '../tracking/mlflow-server.js';
import { MlflowClient } from '../../plugins/trackers/mlflow/client.js';
import { RUN_ID_TAG, readShipState } from '../../plugins/trackers/mlflow/shipper.js';
import { after } from 'node:test';

const here = path.dirname(fileURLToPath(import.meta.url));
const { skip } = clusterForTests();
// The tests that check the MLflow runs of a Slurm sweep need the real server too.
const mlflow = skip ? { skip } : await serverForTests();
after(async () => {
  await mlflow.server?.stop();
});
const tsx = createRequire(import.meta.url).resolve('tsx');
// Each cell's `ablate run` runs the CLI from source (the job inherits this environment).
process.env.ABLATE_RUN_ENTRY = JSON.stringify(['--import', tsx, path.join(here, '..', 'support', 'cli-entry.ts')]);

/** The inside of a flow mapping (`iterations: 12, sleep_ms: 150`) as an object. */
const flow = (text = ''): Record<string, unknown> => parse(`{${text}}`) as Record<string, unknown>;

function sweepFile(dir: string, opts: { trainer: string; grid: string; launcher?: string; checkpoint?: string; tracker?: string }): string {
  return writeTinyExperiment(
    dir,
    {
      name: 'slurm-test',
      seed: 0,
      scheduler: TINY_SCHEDULER,
      trainer: { type: 'test-supervised', ...flow(opts.trainer) },
      checkpoint: opts.checkpoint === undefined ? { every: 1000 } : parse(opts.checkpoint),
      progress: { log_every: 1, bar: 'never' },
      trackers: [opts.tracker === undefined ? { type: 'local' } : parse(opts.tracker)],
      launcher: { type: 'slurm', signal_grace: 5, max_requeues: 2, ...flow(opts.launcher) },
    },
    { file: 'sweep.yaml', tail: ['sweep:', '  grid:', ...opts.grid.split('\n').map((l) => `    ${l}`)] },
  );
}

const silent = () => {};

/** The sweep parent's status in its record once it has an end event after its last resume (RUNNING until then, or after `seconds`). */
async function parentEnd(sweepDir: string, seconds = 60): Promise<string> {
  for (const t0 = Date.now(); Date.now() - t0 < seconds * 1000; await new Promise((r) => setTimeout(r, 500))) {
    const events = readFileSync(path.join(sweepDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; status?: string });
    const last = events.filter((e) => e.t === 'end' || e.t === 'resume' || e.t === 'start').at(-1)!;
    if (last.t === 'end') return last.status!;
  }
  return 'RUNNING';
}

/** Kills the monitor `ablate sweep` left behind (as a rebooted login node would). */
function killMonitor(lines: readonly string[]): void {
  const pid = Number(/monitor: process (\d+) /.exec(lines.join('\n'))?.[1]);
  assert.ok(pid > 0, lines.join('\n'));
  process.kill(pid, 'SIGKILL');
}
const status = (dir: string) => sweepStatus(dir, {}, silent);

/** Polls Slurm's own state of a job (`squeue %T`, '' once it has left the queue) until `done` holds (or fails after `seconds`). */
async function untilJob(id: string, done: (state: string) => boolean, seconds: number, what: string): Promise<void> {
  for (const t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 250))) {
    const state = spawnSync('squeue', ['-h', '-j', id, '-o', '%T'], { encoding: 'utf8' }).stdout.trim();
    if (done(state)) return;
    assert.ok(Date.now() - t0 < seconds * 1000, `${what} (squeue says ${state || 'nothing'})`);
  }
}

/** Polls the sweep's status until `done` holds (or fails after `seconds`). */
async function until(dir: string, done: (cells: CellProgress[]) => boolean, seconds: number, what: string): Promise<CellProgress[]> {
  const t0 = Date.now();
  let cells: CellProgress[] = [];
  while (Date.now() - t0 < seconds * 1000) {
    cells = await status(dir);
    if (done(cells)) return cells;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`${what}: not reached in ${seconds} s; last status ${JSON.stringify(cells, null, 1)}`);
}

test('a 4-cell sweep with array_parallelism 2 submits, returns, finishes on Slurm and equals the local launcher (hashes, metrics); status works without sacct', { skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const file = sweepFile(dir, { trainer: 'iterations: 12', grid: 'scheduler.lr: [0.5, 0.1]\ntrainer.batch_size: [1, 2]', launcher: 'array_parallelism: 2' });
  const lines: string[] = [];
  const submitted = await runSweep(file, { set: [] }, (l) => lines.push(l));
  assert.equal(submitted.status, 'SUBMITTED', lines.join('\n'));
  assert.equal(submitted.handles.length, 4);
  assert.match(lines.join('\n'), /follow it: ablate sweep status .* --watch/);
  const script = readFileSync(path.join(submitted.sweepDir, 'launch', 'slurm', 'array-0.sh'), 'utf8');
  assert.match(script, /^#SBATCH --array=0-3%2$/m);
  assert.match(script, /^#SBATCH --signal=B:USR1@5$/m);

  // Slurm here has no accounting daemon, as on many small sites: sacct fails, status does not.
  assert.notEqual(spawnSync('sacct', [], { encoding: 'utf8' }).status, 0, 'sacct is expected to fail without slurmdbd');
  const ended = await until(submitted.sweepDir, (cells) => cells.every((c) => c.state === 'FINISHED' || c.state === 'FAILED'), 400, 'every cell ended');
  assert.deepEqual(ended.map((c) => c.state), ['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED'], JSON.stringify(ended));
  assert.ok(ended.every((c) => c.iteration === 12 && c.metrics.pixel_acc !== undefined && c.log && existsSync(c.log)));
  const shown: string[] = [];
  await sweepStatus(submitted.sweepDir, {}, (l) => shown.push(l));
  assert.match(shown.join('\n'), /4 cell\(s\): 4 FINISHED/);

  // The monitor `ablate sweep` left behind ends the parent run once the last cell has ended.
  assert.match(lines.join('\n'), /monitor: process \d+ ends the sweep's parent run/);
  assert.equal(await parentEnd(submitted.sweepDir), 'FINISHED', readFileSync(path.join(submitted.sweepDir, 'monitor.log'), 'utf8'));
  assert.ok(existsSync(path.join(submitted.sweepDir, 'summary.md')));
  // The last cell (or `status`) may end the parent before the monitor's next look; then the monitor finds it ended.
  for (const t0 = Date.now(); Date.now() - t0 < 120_000 && !/sweep FINISHED/.test(readFileSync(path.join(submitted.sweepDir, 'monitor.log'), 'utf8')); ) await new Promise((r) => setTimeout(r, 500));
  assert.match(readFileSync(path.join(submitted.sweepDir, 'monitor.log'), 'utf8'), /sweep FINISHED/);

  // The same sweep on this machine: same cells, same hashes, same final metrics.
  const local = await runSweep(file, { set: [], launcher: 'local' }, silent);
  assert.equal(local.status, 'FINISHED');
  const onSlurm = JSON.parse(readFileSync(path.join(submitted.sweepDir, 'sweep.json'), 'utf8')) as { cells: { name: string; hash: string }[] };
  const here_ = JSON.parse(readFileSync(path.join(local.sweepDir, 'sweep.json'), 'utf8')) as { cells: { name: string; hash: string }[] };
  assert.deepEqual(here_.cells.map((c) => [c.name, c.hash]), onSlurm.cells.map((c) => [c.name, c.hash]));
  for (const c of local.cells) assert.deepEqual(ended.find((e) => e.name === c.name)!.metrics, c.metrics, `${c.name}: Slurm and local metrics`);
});

test('a cell preempted mid-run (USR1) checkpoints, requeues itself and continues its MLflow run: one run, FINISHED, each step once, the metrics of an uninterrupted run', { skip: mlflow.skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const uri = mlflow.server!.uri;
  const file = sweepFile(dir, { trainer: 'iterations: 30, sleep_ms: 150', grid: 'scheduler.lr: [0.5]', tracker: `{type: mlflow, tracking_uri: ${JSON.stringify(uri)}, flush_interval_ms: 200}` });
  const submitted = await runSweep(file, { set: [] }, silent);
  const id = submitted.handles[0]!.id;
  await until(submitted.sweepDir, ([c]) => c!.state === 'RUNNING' && (c!.iteration ?? 0) >= 3, 120, 'the cell trains');
  execFileSync('scancel', ['--batch', '--signal=USR1', id]);
  const requeued = await until(submitted.sweepDir, ([c]) => c!.state === 'REQUEUED', 120, 'the cell is requeued');
  assert.equal(requeued[0]!.requeues, 1);
  // A requeued job waits ~2 minutes before it may start again; release it sooner, but only once
  // Slurm has finished the old allocation (PENDING, no longer COMPLETING) and a second has passed:
  // slurmd refuses a launch credential made in the same second as the requeue's revocation
  // ("Killing non-startable batch job: Job credential revoked"), which is what that hold avoids.
  await untilJob(id, (state) => state === 'PENDING', 60, 'the requeued job is pending again');
  await new Promise((r) => setTimeout(r, 2000));
  execFileSync('scontrol', ['update', `JobId=${id}`, 'StartTime=now']);
  const [done] = await until(submitted.sweepDir, ([c]) => c!.state === 'FINISHED' || c!.state === 'FAILED', 300, 'the cell finishes');
  assert.equal(done!.state, 'FINISHED', JSON.stringify(done));
  assert.equal(done!.iteration, 30);
  const log = readFileSync(done!.log!, 'utf8');
  assert.match(log, /warning signal \(USR1\): checkpointing/);
  assert.match(log, /requeueing job/);
  assert.match(log, /attempt 2/);
  assert.match(log, /continuing from .*checkpoints/);
  // The same run folder and the same record: the requeued attempt continued it.
  const events = readFileSync(path.join(done!.runDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; status?: string; id?: string });
  assert.deepEqual(events.filter((e) => ['start', 'end', 'resume'].includes(e.t)).map((e) => e.status ?? e.t), ['start', 'KILLED', 'resume', 'FINISHED']);

  const local = await runSweep(file, { set: [], launcher: 'local' }, silent);
  assert.deepEqual(done!.metrics, local.cells[0]!.metrics, 'preempted + resumed equals uninterrupted');

  // MLflow: one run for both attempts, FINISHED, each metric's steps unique, the uninterrupted run's histories.
  const client = new MlflowClient(uri);
  const state = readShipState(done!.runDir, uri)!;
  const clientId = (events[0] as { id?: string }).id!;
  assert.equal((await client.searchRuns([state.experimentId], `tags.\`${RUN_ID_TAG}\` = '${clientId}'`)).length, 1, 'one MLflow run');
  const run = await client.getRun(state.runId);
  assert.equal(run.info.status, 'FINISHED');
  const uninterrupted = readShipState(local.cells[0]!.runDir!, uri)!.runId;
  for (const m of run.data.metrics ?? []) {
    const steps = (await client.getMetricHistory(state.runId, m.key)).map((p) => Number(p.step));
    assert.equal(new Set(steps).size, steps.length, `${m.key}: each step once (${steps.join(',')})`);
  }
  const history = async (id: string, key: string) => (await client.getMetricHistory(id, key)).map((p) => [Number(p.step), p.value]).sort((a, b) => a[0]! - b[0]!);
  for (const key of ['train/loss', 'val/pixel_acc']) assert.deepEqual(await history(state.runId, key), await history(uninterrupted, key), key);
  assert.equal((await history(state.runId, 'train/loss')).length, 30);
});

test('cancel --cell stops one running cell with a checkpoint (KILLED, not requeued) and leaves the other to finish', { skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const file = sweepFile(dir, { trainer: 'iterations: 40, sleep_ms: 150', grid: 'scheduler.lr: [0.5, 0.1]', launcher: 'array_parallelism: 2' });
  const lines: string[] = [];
  const submitted = await runSweep(file, { set: [] }, (l) => lines.push(l));
  // No monitor: the cells themselves end the sweep.
  killMonitor(lines);
  const [a, b] = submitted.handles.map((h) => h.name);
  await until(submitted.sweepDir, (cells) => cells.every((c) => c.state === 'RUNNING' && (c.iteration ?? 0) >= 2), 180, 'both cells train');
  const said: string[] = [];
  await sweepCancel(submitted.sweepDir, { cell: [a!] }, (l) => said.push(l));
  assert.match(said.join('\n'), new RegExp(`cancelling ${a!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(RUNNING\\)`));
  const cells = await until(submitted.sweepDir, (cs) => cs.every((c) => c.state !== 'RUNNING' && c.state !== 'PENDING' && c.state !== 'REQUEUED'), 300, 'both ended');
  const byName = new Map(cells.map((c) => [c.name, c]));
  assert.equal(byName.get(a!)!.state, 'KILLED', JSON.stringify(cells));
  assert.ok(byName.get(a!)!.iteration! < 40);
  const result = JSON.parse(readFileSync(path.join(byName.get(a!)!.runDir, 'result.json'), 'utf8')) as { checkpoint?: string };
  assert.ok(result.checkpoint && existsSync(result.checkpoint), 'the cancelled cell left a checkpoint');
  assert.match(readFileSync(byName.get(a!)!.log!, 'utf8'), /cancelled: not requeued/);
  assert.equal(byName.get(b!)!.state, 'FINISHED');
  assert.equal(byName.get(b!)!.iteration, 40);

  // The cell that ended last ended the parent run: KILLED, since a cell was cancelled.
  assert.equal(await parentEnd(submitted.sweepDir), 'KILLED');
  for (const t0 = Date.now(); Date.now() - t0 < 120_000; await new Promise((r) => setTimeout(r, 500))) {
    if ([a!, b!].some((c) => /ended the sweep's parent run: KILLED/.test(readFileSync(byName.get(c)!.log!, 'utf8')))) break;
  }
  assert.ok([a!, b!].some((c) => /ended the sweep's parent run: KILLED/.test(readFileSync(byName.get(c)!.log!, 'utf8'))), 'a cell task ended it');

  // --resume submits only the cell that is not FINISHED; it continues from its checkpoint.
  const keptResult = readFileSync(path.join(byName.get(b!)!.runDir, 'result.json'), 'utf8');
  lines.length = 0;
  const resumed = await runSweep(file, { set: [], resume: submitted.sweepDir, wait: true }, (l) => lines.push(l));
  assert.equal(resumed.status, 'FINISHED', lines.join('\n'));
  assert.deepEqual(resumed.handles.map((h) => h.name), [a], 'only the cancelled cell was submitted again');
  assert.equal(readFileSync(path.join(byName.get(b!)!.runDir, 'result.json'), 'utf8'), keptResult, 'the finished cell did not run again');
  const again = JSON.parse(readFileSync(path.join(byName.get(a!)!.runDir, 'result.json'), 'utf8')) as { status: string; iteration: number };
  assert.deepEqual([again.status, again.iteration], ['FINISHED', 40]);
  assert.match(readFileSync(resumed.handles[0]!.log!, 'utf8'), /continuing from .*checkpoints/);
  assert.equal(await parentEnd(submitted.sweepDir), 'FINISHED', 'the resumed sweep continued and ended the same parent run');
});

test('a failing cell shows FAILED with the tail of its log in status', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const file = sweepFile(dir, { trainer: 'iterations: 10, nan_at: 3', grid: 'scheduler.lr: [0.5]' });
  const submitted = await runSweep(file, { set: [] }, silent);
  await until(submitted.sweepDir, ([c]) => c!.state === 'FAILED' || c!.state === 'FINISHED', 200, 'the cell ends');
  const shown: string[] = [];
  await sweepStatus(submitted.sweepDir, {}, (l) => shown.push(l));
  assert.equal(process.exitCode, 1, 'status exits 1 when a cell failed');
  process.exitCode = 0;
  const text = shown.join('\n');
  assert.match(text, /1 cell\(s\): 1 FAILED/);
  assert.match(text, /FAILED: .*NaN/i);
  assert.match(text, /--- last lines of .*launch\/slurm\/logs\/\d+_0\.out ---/);
  assert.match(text, /ablate\[slurm\]: run FAILED/);
  assert.equal(await parentEnd(submitted.sweepDir), 'FAILED', 'the sweep parent ends FAILED');
});

test('--wait blocks until the cells have ended, shows their table, then ends the parent run with the summary', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const file = sweepFile(dir, { trainer: 'iterations: 6', grid: 'scheduler.lr: [0.5, 0.1]' });
  const lines: string[] = [];
  const r = await runSweep(file, { set: [], wait: true }, (l) => lines.push(l));
  assert.equal(r.status, 'FINISHED', lines.join('\n'));
  assert.deepEqual(r.cells.map((c) => c.status), ['FINISHED', 'FINISHED']);
  assert.ok(r.cells.every((c) => c.metrics.pixel_acc !== undefined));
  assert.match(lines.join('\n'), /2 cell\(s\): 2 FINISHED/);
  const parent = readFileSync(path.join(r.sweepDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; status?: string });
  assert.equal(parent.at(-1)!.t, 'end');
  assert.equal(parent.at(-1)!.status, 'FINISHED');
  assert.ok(existsSync(path.join(r.sweepDir, 'summary.md')));
});

test('a cell that has used up max_requeues stays KILLED with its checkpoint and says why in its log', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const file = sweepFile(dir, { trainer: 'iterations: 30, sleep_ms: 150', grid: 'scheduler.lr: [0.5]', launcher: 'max_requeues: 0' });
  const submitted = await runSweep(file, { set: [] }, silent);
  await until(submitted.sweepDir, ([c]) => c!.state === 'RUNNING' && (c!.iteration ?? 0) >= 3, 120, 'the cell trains');
  execFileSync('scancel', ['--batch', '--signal=USR1', submitted.handles[0]!.id]);
  const [c] = await until(submitted.sweepDir, ([x]) => x!.state !== 'RUNNING' && x!.state !== 'PENDING', 120, 'the cell stops');
  assert.equal(c!.state, 'KILLED', JSON.stringify(c));
  assert.equal(c!.requeues, 0);
  assert.match(readFileSync(c!.log!, 'utf8'), /not requeued: max_requeues \(0\) reached; `ablate sweep --resume` continues it from its checkpoint/);
  const result = JSON.parse(readFileSync(path.join(c!.runDir, 'result.json'), 'utf8')) as { checkpoint?: string };
  assert.ok(result.checkpoint && existsSync(result.checkpoint));
});

test('the monitor dies: the cell that ends last ends the parent run, in the record and in MLflow (FINISHED, with the summary)', { skip: mlflow.skip, timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const uri = mlflow.server!.uri;
  const file = sweepFile(dir, { trainer: 'iterations: 8, sleep_ms: 100', grid: 'scheduler.lr: [0.5, 0.1]', tracker: `{type: mlflow, tracking_uri: ${JSON.stringify(uri)}, flush_interval_ms: 200}` });
  const lines: string[] = [];
  const submitted = await runSweep(file, { set: [] }, (l) => lines.push(l));
  killMonitor(lines);
  // Nobody follows the sweep (no status, no --wait): the cells' tasks alone end it.
  assert.equal(await parentEnd(submitted.sweepDir, 300), 'FINISHED');
  // The task that ended it says so in its log once `ablate sweep end` has returned (everything shipped).
  let logs: string[] = [];
  for (const t0 = Date.now(); Date.now() - t0 < 120_000; await new Promise((r) => setTimeout(r, 500))) {
    logs = submitted.handles.map((h) => readFileSync(h.log!, 'utf8'));
    if (logs.some((l) => /ended the sweep's parent run/.test(l))) break;
  }
  assert.equal(logs.filter((l) => /ended the sweep's parent run: FINISHED/.test(l)).length, 1, logs.join('\n-----\n'));
  assert.ok(existsSync(path.join(submitted.sweepDir, 'summary.md')));
  const state = readShipState(submitted.sweepDir, uri)!;
  assert.ok(state.done, 'the parent run was shipped completely');
  const client = new MlflowClient(uri);
  const parent = await client.getRun(state.runId);
  assert.equal(parent.info.status, 'FINISHED');
  assert.ok((await client.listArtifactsRecursive(state.runId)).some((f) => f.path === 'summary.md'), 'the summary on the parent run');
  const kids = await client.searchRuns([state.experimentId], `tags.\`mlflow.parentRunId\` = '${state.runId}'`);
  assert.deepEqual(kids.map((k) => k.info.status), ['FINISHED', 'FINISHED']);
});

test('a cell killed hard (every process of its task SIGKILLed, none left to say so) and no monitor: `ablate sweep status` ends the parent run (FAILED, as Slurm says)', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-'));
  const file = sweepFile(dir, { trainer: 'iterations: 40, sleep_ms: 150', grid: 'scheduler.lr: [0.5]' });
  const lines: string[] = [];
  const submitted = await runSweep(file, { set: [] }, (l) => lines.push(l));
  killMonitor(lines);
  const id = submitted.handles[0]!.id;
  const runDir = (JSON.parse(readFileSync(path.join(submitted.sweepDir, 'sweep.json'), 'utf8')) as { cells: { runDir: string }[] }).cells[0]!.runDir;
  const started = Date.now();
  while (!existsSync(path.join(runDir, 'tracking', 'record.jsonl'))) {
    assert.ok(Date.now() - started < 120_000, 'the cell started');
    await new Promise((r) => setTimeout(r, 500));
  }
  // Like the OOM killer or a lost node: the task's wrapper, then everything under it, dies at once
  // by SIGKILL, so nothing of the task can record an end. (Not `scancel`: Slurm's cancel sends
  // SIGCONT and SIGTERM first and signals a job's processes one by one, so a task could still act.)
  const arrays = path.join(slurmDir(submitted.sweepDir), 'array-');
  const procs = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout.split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/)).filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const doomed = procs.filter((p) => p.args.includes(arrays)).map((p) => p.pid);
  assert.ok(doomed.length > 0, 'the task wrapper runs');
  for (let k = 0; k < doomed.length; k++) for (const p of procs) if (p.ppid === doomed[k] && !doomed.includes(p.pid)) doomed.push(p.pid);
  for (const pid of doomed) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  // Wait until Slurm has the job ended, without asking `status` (which would end the parent).
  await untilJob(id, (state) => state === '' || !/RUNNING|PENDING|COMPLETING/.test(state), 120, 'the job ended');
  assert.equal(await parentEnd(submitted.sweepDir, 3), 'RUNNING', 'nobody has ended it yet');
  const shown: string[] = [];
  const cells = await sweepStatus(submitted.sweepDir, {}, (l) => shown.push(l));
  process.exitCode = 0;
  assert.deepEqual(cells.map((c) => c.state), ['FAILED'], JSON.stringify(cells));
  assert.match(cells[0]!.error ?? '', /^FAILED .*before the run wrote a result/);
  assert.match(shown.join('\n'), /ended the sweep's parent run: FAILED/);
  assert.equal(await parentEnd(submitted.sweepDir, 3), 'FAILED');
  // Again: nothing more to do.
  const again: string[] = [];
  await sweepStatus(submitted.sweepDir, {}, (l) => again.push(l));
  process.exitCode = 0;
  assert.doesNotMatch(again.join('\n'), /ended the sweep's parent run/);
});
