/** The MLflow names of the engine's metrics (docs/tracking.md) and their way back to the record's names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mlflowMetricKey, recordMetricKey } from '../../plugins/trackers/mlflow/metric-names.js';

const evaluation = { miou: 0.5, 'iou/aeroplane': 0.4, pixel_acc: 0.9, 'eval/seconds': 2, 'eval/images': 300 };
const iteration = { loss_seg: 1, 'lr/backbone': 1e-3, semi_ratio: 0.2, it_per_sec: 3 };
const end = { 'data/bad_samples': 0, 'train/it_per_sec_mean': 2.5 };
const system = { 'system/cpu_utilization_percentage': 50 };

function names(event: Record<string, number>): Record<string, string> {
  return Object.fromEntries(Object.keys(event).map((k) => [k, mlflowMetricKey(k, event)]));
}

test('evaluation results under val/, training values under train/, bookkeeping under sys/, system/ as MLflow names it', () => {
  assert.deepEqual(names(evaluation), { miou: 'val/miou', 'iou/aeroplane': 'val/iou/aeroplane', pixel_acc: 'val/pixel_acc', 'eval/seconds': 'sys/eval/seconds', 'eval/images': 'sys/eval/images' });
  assert.deepEqual(names(iteration), { loss_seg: 'train/loss_seg', 'lr/backbone': 'train/lr/backbone', semi_ratio: 'train/semi_ratio', it_per_sec: 'sys/it_per_sec' });
  assert.deepEqual(names(end), { 'data/bad_samples': 'sys/data/bad_samples', 'train/it_per_sec_mean': 'sys/it_per_sec_mean' });
  assert.deepEqual(names(system), { 'system/cpu_utilization_percentage': 'system/cpu_utilization_percentage' });
  // A name that already carries a prefix is sent as it is (no train/train/…).
  assert.deepEqual(names({ 'train/loss': 1, 'val/miou': 2 }), { 'train/loss': 'train/loss', 'val/miou': 'val/miou' });
});

test('reading back gives the record name of every prefixed name, and nothing for unprefixed ones', () => {
  for (const event of [evaluation, iteration, end]) {
    for (const k of Object.keys(event)) assert.equal(recordMetricKey(mlflowMetricKey(k, event)), k, k);
  }
  assert.equal(recordMetricKey('miou'), undefined, 'a run shipped before the prefixes');
  assert.equal(recordMetricKey('system/cpu_utilization_percentage'), undefined);
  assert.equal(recordMetricKey('val/'), undefined);
});
