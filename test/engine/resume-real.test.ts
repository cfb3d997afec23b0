/**
 * Exact resume with the real components: DeepLab-v2 + fcdisc + the adversarial-semi trainer on a
 * tiny mini-VOC, interrupted after a few iterations and resumed, ends with the same weights,
 * optimizer states and batch-norm statistics as an uninterrupted run (stream positions, the
 * partition and the schedules all come back). Runs on the default backend (native TensorFlow here);
 * `runtime.deterministic: true` is not used because TensorFlow's non-oneDNN CPU kernels refuse the
 * dilated-convolution gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinRegistry } from '../../src/plugin/bootstrap.js';
import { loadExperiment } from '../../src/config/index.js';
import { runExperiment } from '../../src/engine/run.js';
import { listCheckpoints } from '../../src/engine/checkpoint.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { quietLog } from '../support/log.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('adversarial-semi on mini-VOC: interrupt + resume = uninterrupted, bit for bit', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-resume-'));
  const data = path.join(dir, 'mini-voc');
  await (await builtinRegistry()).get('dataset', 'mini-voc').tool!.run({ out: data, train: 12, val: 2, size: 64 }, quietLog);
  const resolved = await loadExperiment(path.join(root, 'experiments', 'quickstart.yaml'), {
    set: [
      `dataset.root=${data}`,
      'dataset.crop=32',
      'dataset.labeled_fraction=0.5',
      'model.base_width=8',
      'model.pretrained=null', // the committed backbone is width 16
      'discriminator.ndf=8',
      'trainer.iterations=6',
      'trainer.batch_size=2',
      'trainer.semi_start=2',
      'checkpoint.every=0',
      'evaluation.at_end=false',
      `output.dir=${path.join(dir, 'runs')}`,
      'progress.bar=never',
    ],
  });
  const full = await runExperiment(resolved, { log: quietLog, runDir: path.join(dir, 'full') });
  assert.equal(full.status, 'FINISHED', full.error?.stack);

  const ctrl = new AbortController();
  const part = await runExperiment(resolved, { log: quietLog, runDir: path.join(dir, 'split'), signal: ctrl.signal, onIteration: (it) => it === 2 && ctrl.abort() });
  assert.equal(part.status, 'KILLED', part.error?.stack);
  assert.equal(part.iteration, 3);
  const resumed = await runExperiment(resolved, { log: quietLog, resume: part.runDir });
  assert.equal(resumed.status, 'FINISHED', resumed.error?.stack);

  const a = readSafetensors(listCheckpoints(full.runDir).at(-1)!.tensorsFile).tensors;
  const b = readSafetensors(listCheckpoints(part.runDir).at(-1)!.tensorsFile).tensors;
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  assert.ok([...a.keys()].some((k) => k.startsWith('discriminator_optimizer/')), 'Adam moments are checkpointed');
  assert.ok([...a.keys()].some((k) => k.includes('running_mean')), 'batch-norm statistics are checkpointed');
  const differ: string[] = [];
  for (const [k, t] of a) {
    const u = b.get(k)!.data;
    let max = 0;
    for (let i = 0; i < t.data.length; i++) max = Math.max(max, Math.abs(Number(t.data[i]) - Number(u[i])));
    if (max > 0) differ.push(`${k} (max |Δ| ${max.toExponential(2)})`);
  }
  assert.deepEqual(differ, [], `tensors that differ after resume: ${differ.slice(0, 5).join(', ')}`);
});
