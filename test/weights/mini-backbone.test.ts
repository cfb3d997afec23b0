/**
 * mini-VOC's pretrained backbone: the tool that makes it runs end to end and writes exactly the
 * deeplabv2 backbone's state dict, and the committed file the mini-VOC experiments point to
 * fills every backbone tensor of the mini model (only the classifier, layer5, starts fresh).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { weights } from '../../src/index.js';
import { loadExperiment } from '../../src/config/index.js';
import { selectBackend } from '../../src/runtime/index.js';
import { DeepLabV2 } from '../../plugins/models/deeplabv2/index.js';

await selectBackend({ backend: 'cpu', log: () => {} });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function miniModel(): DeepLabV2 {
  const bn = { affine: 'frozen', statistics: 'batch', momentum: 0.1, eps: 1e-5 } as const;
  return new DeepLabV2({ depth: 18, base_width: 16, num_classes: 21, rates: [1, 2, 3, 4], bn, upsampling: 'bilinear', pretrained: null, pretrained_strip_prefix: '', classifier_lr_multiplier: 10 }, 'model', 0);
}

/** One tiny run of the pretraining tool (2 iterations of batch 2 at 32 px, width 4) into `out`. */
async function pretrainTiny(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ['--import', 'tsx', path.join(root, 'tools', 'pretrain-mini-backbone.ts'), '--out', out, '--iterations', '2', '--batch', '2', '--size', '32', '--eval-images', '4', '--width', '4', '--seed', '5', '--backend', 'cpu'];
  const child = spawn(process.execPath, args, { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

test('tools/pretrain-mini-backbone.ts trains a few steps and writes the backbone under deeplabv2 names, the same for the same seed', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-pretrain-'));
  try {
    const [out, again] = [path.join(dir, 'backbone.safetensors'), path.join(dir, 'again.safetensors')];
    // Two runs side by side: the committed weights are reproducible from their recorded settings.
    const runs = await Promise.all([pretrainTiny(out), pretrainTiny(again)]);
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.match(runs[0]!.stdout, /held-out glyph accuracy: \d+\.\d% on 4 images/);
    const file = weights.readSafetensors(out);
    const names = [...file.tensors.keys()];
    assert.ok(names.includes('conv1.weight') && names.includes('layer4.1.bn2.running_var'));
    assert.ok(!names.some((n) => n.startsWith('layer5')), 'no classifier tensors');
    assert.equal(file.metadata.made_by, 'tools/pretrain-mini-backbone.ts');
    assert.deepEqual([file.metadata.iterations, file.metadata.batch, file.metadata.size, file.metadata.base_width, file.metadata.seed], ['2', '2', '32', '4', '5'], 'the settings are recorded');
    assert.deepEqual(file.tensors.get('conv1.weight')?.shape, [4, 3, 7, 7], 'PyTorch layout (out, in, kh, kw)');
    const other = weights.readSafetensors(again);
    assert.deepEqual([...other.tensors.keys()], names);
    for (const n of names) assert.deepEqual(other.tensors.get(n)?.data, file.tensors.get(n)?.data, `${n} is the same for the same seed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed mini backbone fills every backbone tensor of the mini-VOC model', async () => {
  const { config } = await loadExperiment(path.join(root, 'experiments', 'mini-voc', 'baseline.yaml'));
  const file = (config as { model: { pretrained: string } }).model.pretrained;
  assert.ok(file, 'experiments/mini-voc sets model.pretrained');
  const m = miniModel();
  try {
    const report = weights.loadSafetensorsInto(m.stateDict(), path.resolve(root, 'experiments', 'mini-voc', file));
    assert.deepEqual(report.unexpected, []);
    assert.deepEqual(report.mismatched, []);
    assert.ok(report.missing.length > 0 && report.missing.every((n) => n.startsWith('layer5.')), `missing: ${report.missing.join(', ')}`);
  } finally {
    m.dispose();
  }
});
