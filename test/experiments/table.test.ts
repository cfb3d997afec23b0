// The paper's table is a sweep whose method variants extend the method files: every cell must be
// exactly the experiment that the corresponding row file describes (same canonical hash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSweep, loadExperiment } from '../../src/config/index.js';

for (const dataset of ['voc', 'cityscapes']) {
  test(`${dataset}/table.yaml: cells equal the row files, minus the semi-supervised methods at full labels`, async () => {
    const cells = await expandSweep(`experiments/${dataset}/table.yaml`);
    assert.equal(cells.length, (4 * 5 - 3) * 3, '4 fractions x 5 methods - 3 excluded, x 3 seeds');
    for (const method of ['adv-semi', 'cutmix-mt', 'classmix-mt']) {
      assert.ok(!cells.some((c) => c.labels.method === method && c.labels.labeled_fraction === 1), `no full-label ${method} cell`);
    }
    for (const method of ['baseline', 'adv', 'adv-semi', 'cutmix-mt', 'classmix-mt']) {
      const row = await loadExperiment(`experiments/${dataset}/${method}.yaml`, { set: ['dataset.labeled_fraction=0.125', 'seed=0'] });
      const cell = cells.find((c) => c.labels.method === method && c.labels.labeled_fraction === 0.125 && c.labels.seed === 0);
      assert.ok(cell, `cell for ${method}`);
      assert.equal(cell.experiment.hash, row.hash, `${method}: the table cell differs from ${dataset}/${method}.yaml`);
    }
    const types = new Set(cells.map((c) => `${c.labels.method}:${(c.experiment.config.trainer as { type: string }).type}`));
    assert.deepEqual([...types].sort(), ['adv-semi:adversarial-semi', 'adv:adversarial', 'baseline:supervised', 'classmix-mt:mean_teacher', 'cutmix-mt:mean_teacher']);
  });
}
