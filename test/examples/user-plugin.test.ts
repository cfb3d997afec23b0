// The README's "Write a plugin" example is real code: examples/plugins/cosine.ts, loaded by
// examples/cosine-schedule.yaml through `plugins:`, validated against its own schema and built by
// the container with its optimizer injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExperiment } from '../../src/config/index.js';
import { ExperimentContainer } from '../../src/plugin/container.js';
import { AblateError, AblateErrors, type Optimizer } from '../../src/index.js';
import { quietLog } from '../support/log.js';

test('a TypeScript user plugin is loaded, validated, documented and injected', async () => {
  const exp = await loadExperiment('examples/cosine-schedule.yaml');
  const base = await loadExperiment('experiments/mini-voc/base-104.yaml');
  const lr = (base.config.scheduler as { lr: number }).lr;
  const scheduler = exp.config.scheduler as Record<string, unknown>;
  // The switch from poly keeps the inherited lr and drops poly's own options.
  assert.deepEqual(scheduler, { type: 'cosine', lr, max_iterations: (exp.config.trainer as { iterations: number }).iterations });
  assert.equal(exp.registry.source('scheduler', 'cosine'), './plugins/cosine.ts');

  // Only the optimizer's chain is built: the model is tiny, nothing trains.
  const container = new ExperimentContainer({ registry: exp.registry, config: exp.config, baseDir: exp.baseDir, log: quietLog });
  const sched = await container.get('scheduler', 'scheduler');
  const optimizer = await container.get('optimizer', 'optimizer');
  const n = scheduler.max_iterations as number;
  assert.equal(sched.step(0), lr);
  assert.equal(optimizer.learningRate, lr, 'the scheduler drives the injected optimizer');
  assert.ok(Math.abs(sched.learningRateAt(n / 2) - lr / 2) < 1e-12);
  assert.equal(sched.learningRateAt(n), 0);
  (await container.get('model', 'model')).dispose();
  (optimizer as Optimizer).dispose();
});

test("a user plugin's options are validated like a built-in's, with located errors", async () => {
  await assert.rejects(loadExperiment('examples/cosine-schedule.yaml', { set: ['scheduler.max_iteratons=5'] }), (e: unknown) => {
    const errors = e instanceof AblateErrors ? e.errors : [e as AblateError];
    assert.ok(errors.some((x) => /max_iteratons/.test(`${x.message} ${x.where?.key}`) && /max_iterations/.test(`${x.message} ${x.hint}`)), errors.map((x) => x.message).join('\n'));
    return true;
  });
});

test("a resolved copy elsewhere (a sweep cell's file, a run's config.yaml) finds the plugin through baseDir", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const original = await loadExperiment('examples/cosine-schedule.yaml');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-cell-'));
  try {
    const copy = path.join(dir, 'cell.yaml');
    writeFileSync(copy, original.canonicalYaml);
    // From its own folder the relative `plugins:` entry points nowhere…
    await assert.rejects(loadExperiment(copy), /cosine/);
    // …from the experiment's folder (what `ablate run --base-dir` / a resume passes) it loads.
    const cell = await loadExperiment(copy, { baseDir: original.baseDir });
    assert.equal(cell.hash, original.hash);
    assert.equal(cell.baseDir, original.baseDir);
    assert.equal((cell.config.scheduler as { type: string }).type, 'cosine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
