// The slurm launcher's pure parts (no cluster needed): the batch script from the options, the
// task ranges squeue prints for pending arrays, and how queue states map to cell states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobScript, sbatchLines } from '../../plugins/launchers/slurm/job-script.js';
import { expandTaskString } from '../../plugins/launchers/slurm/commands.js';
import { toCellStatus } from '../../plugins/launchers/slurm/index.js';

const base = { cpus_per_task: 1, job_name: 'ablate', extra: [], setup: [], signal_grace: 120, max_requeues: 3 };

test('every option becomes its #SBATCH line; setup runs before the cell; the runner is exec-ed', () => {
  const o = { ...base, partition: 'gpu', time: '04:00:00', cpus_per_task: 8, mem: '32G', gpus: 'a100:1', qos: 'high', account: 'lab', constraint: 'v100|a100', array_parallelism: 4, extra: ['--exclusive', '#SBATCH --nodelist=gpu01'], setup: ['module load cuda/12.1'], signal_grace: 300 };
  assert.deepEqual(sbatchLines(o), ['--job-name=ablate', '--cpus-per-task=8', '--partition=gpu', '--time=04:00:00', '--mem=32G', '--gres=gpu:a100:1', '--qos=high', '--account=lab', '--constraint=v100|a100', '--requeue', '--signal=B:USR1@300', '--open-mode=append', '--exclusive', '--nodelist=gpu01']);
  const script = jobScript(o, { tasks: 33, logDir: '/s/logs', cwd: '/home/me/ablate', command: ['/usr/bin/node', '/x/cell.js', '/s/array 0.json'] });
  assert.match(script, /^#SBATCH --array=0-32%4$/m);
  assert.match(script, /^#SBATCH --output=\/s\/logs\/%A_%a\.out$/m);
  assert.match(script, /^#SBATCH --chdir=\/home\/me\/ablate$/m);
  assert.ok(script.indexOf('module load cuda/12.1') < script.indexOf('exec '));
  assert.match(script, /^exec \/usr\/bin\/node \/x\/cell\.js '\/s\/array 0\.json' "\$SLURM_ARRAY_TASK_ID"$/m);
  assert.match(jobScript(base, { tasks: 2, logDir: '/l', cwd: '/c', command: ['node'] }), /^#SBATCH --array=0-1$/m, 'no throttle without array_parallelism');
});

test('pending array ranges from squeue are expanded', () => {
  assert.deepEqual(expandTaskString('1-3%2'), [1, 2, 3]);
  assert.deepEqual(expandTaskString('0,4,7-9'), [0, 4, 7, 8, 9]);
  assert.deepEqual(expandTaskString('0-6:3'), [0, 3, 6]);
});

test('queue states: pending and requeued wait, running runs, ended states without a result say how they ended', () => {
  const q = (state: string, reason = 'None', restarts = 0) => ({ id: '7_0', state, reason, restarts });
  assert.deepEqual(toCellStatus('a', q('PENDING', 'BeginTime', 1)), { name: 'a', state: 'PENDING', detail: 'PENDING (BeginTime)', requeues: 1 });
  assert.equal(toCellStatus('a', q('RUNNING')).state, 'RUNNING');
  assert.deepEqual(toCellStatus('a', q('COMPLETED')), { name: 'a', state: 'ENDED', detail: 'COMPLETED', requeues: 0 });
  assert.equal(toCellStatus('a', q('CANCELLED')).outcome, 'KILLED');
  assert.equal(toCellStatus('a', q('OUT_OF_MEMORY')).outcome, 'FAILED');
  assert.deepEqual(toCellStatus('a', undefined), { name: 'a', state: 'UNKNOWN' });
});

test('one array per resource signature (a cell\'s own launcher block wins), split at MaxArraySize, cells in order', async () => {
  const { planArrays } = await import('../../plugins/launchers/slurm/index.js');
  const cell = (name: string, launcherOptions: Record<string, unknown> = { type: 'slurm' }) => ({ name, resolvedFile: `${name}.yaml`, runDir: `/r/${name}`, launcherOptions });
  const cells = [cell('a'), cell('g1', { type: 'slurm', gpus: 1 }), cell('b'), cell('c'), cell('g2', { type: 'slurm', gpus: 1 }), cell('d')];
  const arrays = planArrays(cells, base, 3);
  assert.deepEqual(arrays.map((a) => [a.opts.gpus ?? 0, a.cells.map((c) => c.name)]), [[0, ['a', 'b', 'c']], [0, ['d']], [1, ['g1', 'g2']]]);
  assert.equal(planArrays(cells, base, 1001).length, 2);
});
