/**
 * The main job end to end, shortened: `ablate quickstart` on a small mini-VOC build for a few
 * iterations trains the real adversarial-semi trainer on DeepLab-v2 + fcdisc, evaluates and prints
 * the experiment's headline metric (evaluation.headline), the run folder and the MLflow steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../../src/plugin/bootstrap.js';
import { quickstart } from '../../src/cli/commands/quickstart.js';
import { listCheckpoints } from '../../src/engine/checkpoint.js';

const quiet = { info() {}, warn() {}, debug() {} };

test('quickstart trains a few iterations and reports its headline metric, the run folder and MLflow steps', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-quickstart-'));
  const data = path.join(dir, 'mini-voc');
  const tool = (await builtinRegistry()).get('dataset', 'mini-voc').tool!;
  await tool.run({ out: data, train: 16, val: 4, size: 64 }, quiet);
  const lines: string[] = [];
  // Recorded locally only (`auto` without a server): the closing text says how to sync it.
  const savedUri = process.env.MLFLOW_TRACKING_URI;
  delete process.env.MLFLOW_TRACKING_URI;
  const r = await quickstart(
    { set: [`dataset.root=${data}`, 'trainer.iterations=3', 'trainer.semi_start=1', 'trainer.batch_size=2', 'checkpoint.every=0', `output.dir=${path.join(dir, 'runs')}`, 'progress.bar=never'] },
    (l) => lines.push(l),
  ).finally(() => {
    if (savedUri !== undefined) process.env.MLFLOW_TRACKING_URI = savedUri;
  });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  assert.equal(r.iteration, 3);
  assert.ok(r.metrics.miou !== undefined && r.metrics.miou >= 0 && r.metrics.miou <= 1, JSON.stringify(r.metrics));
  const text = lines.join('\n');
  assert.match(text, /^ +miou on the evaluation split: \d+\.\d\d%$/m, 'the headline metric the experiment names');
  assert.match(text, /MLFLOW_TRACKING_URI=\S+ npx ablate sync \S+/);
  assert.ok(existsSync(path.join(r.runDir, 'config.yaml')));
  // The run logs the inputs the dataset describes (labeled and unlabeled ids at 1/8 of 16 images).
  const inputs = readFileSync(path.join(r.runDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; input?: { name: string; profile?: { images?: number } } }).filter((e) => e.t === 'input');
  assert.deepEqual(inputs.map((e) => [e.input!.name, e.input!.profile?.images]), [['mini-voc-labeled', 2], ['mini-voc-unlabeled', 14]]);
  assert.deepEqual(listCheckpoints(r.runDir).map((c) => c.iteration), [3]);
  assert.ok(existsSync(path.join(r.runDir, 'eval', 'iter-0000003', 'confusion_matrix.csv')), 'the confusion matrix is written');
});
