/**
 * The "done when", shrunk to test size: the mini-VOC table's example for Slurm
 * (examples/slurm-table.yaml, extending experiments/mini-voc/table.yaml) on the real one-node
 * Slurm, 4 cells (baseline and adv × 2 seeds at 1/8 labels, on a tiny generated mini-VOC, a few
 * iterations), `array_parallelism: 2`. It submits and returns, `status` follows it, and `ablate
 * report` reads it exactly as it reads the same sweep run here with the local launcher (same cell
 * hashes, same table).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSweep } from '../../src/cli/commands/sweep-run.js';
import { sweepStatus } from '../../src/cli/commands/sweep-follow.js';
import { runReport } from '../../src/cli/commands/report.js';
import { builtinRegistry } from '../../src/plugin/bootstrap.js';
import type { CellProgress } from '../../src/engine/sweep-state.js';
import { clusterForTests } from './slurm-cluster.js';
import { quietLog } from '../support/log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const { skip } = clusterForTests();
process.env.ABLATE_RUN_ENTRY = JSON.stringify(['--import', createRequire(import.meta.url).resolve('tsx'), path.join(here, '..', 'support', 'cli-entry.ts')]);

test('examples/slurm-table.yaml: 4 mini-VOC cells on Slurm; status follows them; the report equals the local launcher\'s', { skip, timeout: 900_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-slurm-voc-'));
  const data = path.join(dir, 'mini-voc');
  await (await builtinRegistry()).get('dataset', 'mini-voc').tool!.run({ out: data, train: 12, val: 2, size: 64 }, quietLog);
  const set = [
    `dataset.root=${data}`,
    'dataset.crop=32',
    'model.base_width=8',
    'model.pretrained=null',
    'trainer.iterations=4',
    'trainer.batch_size=2',
    'checkpoint.every=0',
    'progress.bar=never',
    'runtime.backend=cpu',
    `output.dir=${path.join(dir, 'runs')}`,
    'sweep.grid={seed: [0, 1], dataset.labeled_fraction: [0.125]}',
    'sweep.exclude=[{method: adv-semi}, {method: cutmix-mt}, {method: classmix-mt}]',
    'launcher.cpus_per_task=1',
    'launcher.mem=1G',
    'launcher.array_parallelism=2',
  ];
  const file = path.join(root, 'examples', 'slurm-table.yaml');
  const lines: string[] = [];
  const submitted = await runSweep(file, { set }, (l) => lines.push(l));
  assert.equal(submitted.status, 'SUBMITTED', lines.join('\n'));
  assert.equal(submitted.handles.length, 4);
  assert.match(readFileSync(path.join(submitted.sweepDir, 'launch', 'slurm', 'array-0.sh'), 'utf8'), /^#SBATCH --array=0-3%2$/m);

  let cells: CellProgress[] = [];
  for (const t0 = Date.now(); Date.now() - t0 < 800_000; await new Promise((r) => setTimeout(r, 2000))) {
    cells = await sweepStatus(submitted.sweepDir, {}, () => {});
    if (cells.every((c) => c.state !== 'PENDING' && c.state !== 'RUNNING' && c.state !== 'REQUEUED')) break;
  }
  process.exitCode = 0;
  assert.deepEqual(cells.map((c) => c.state), ['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED'], JSON.stringify(cells, null, 1));
  assert.ok(cells.every((c) => c.iteration === 4 && c.metrics.miou !== undefined));

  const local = await runSweep(file, { set, launcher: 'local' }, () => {});
  assert.equal(local.status, 'FINISHED');
  const hashes = (d: string) => (JSON.parse(readFileSync(path.join(d, 'sweep.json'), 'utf8')) as { cells: { name: string; hash: string }[] }).cells.map((c) => [c.name, c.hash]);
  assert.deepEqual(hashes(local.sweepDir), hashes(submitted.sweepDir));
  const spec = { png: false } as const;
  const onSlurm = await runReport(submitted.sweepDir, { ...spec, out: path.join(dir, 'report-slurm') }, () => undefined);
  const here_ = await runReport(local.sweepDir, { ...spec, out: path.join(dir, 'report-local') }, () => undefined);
  assert.equal(onSlurm.table.cells.length, 2, 'baseline and adv at 1/8, over 2 seeds');
  assert.deepEqual(onSlurm.table.cells, here_.table.cells);
  assert.equal(onSlurm.markdown.replace(/sweep-[^ |]*/g, ''), here_.markdown.replace(/sweep-[^ |]*/g, ''));
});
