/**
 * tools/pth_to_safetensors.py end to end: a PyTorch DeepLab (tools/torch_models.py) saved as a
 * wrapped .pth with a "Scale." prefix converts, and every tensor loads into the deeplabv2 plugin by
 * name with no missing, unexpected or mismatched entries. Needs tools/.venv (tools/setup-venv.sh);
 * skipped without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { weights } from '../../src/index.js';
import { selectBackend } from '../../src/runtime/index.js';
import { DeepLabV2 } from '../../plugins/models/deeplabv2/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const py = path.join(root, 'tools', '.venv', 'bin', 'python');

test('a .pth with a prefix converts and loads completely into deeplabv2', { skip: !existsSync(py) && 'tools/.venv missing (run tools/setup-venv.sh)' }, async () => {
  await selectBackend({ backend: 'cpu', log: () => {} });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-pth-'));
  try {
    const pth = path.join(dir, 'm.pth');
    const out = path.join(dir, 'm.safetensors');
    const make = spawnSync(py, ['-c', `import sys, torch; sys.path.insert(0, ${JSON.stringify(path.join(root, 'tools'))})
from torch_models import DeepLabV2
m = DeepLabV2(depth=18, base_width=2, num_classes=3, rates=(6, 12))
torch.save({'epoch': 3, 'state_dict': {'Scale.' + k: v for k, v in m.state_dict().items()}}, ${JSON.stringify(pth)})`], { encoding: 'utf8' });
    assert.equal(make.status, 0, make.stderr);
    const conv = spawnSync(py, [path.join(root, 'tools', 'pth_to_safetensors.py'), pth, out, '--strip-prefix', 'Scale.'], { encoding: 'utf8' });
    assert.equal(conv.status, 0, conv.stderr);
    const m = new DeepLabV2(
      { depth: 18, base_width: 2, num_classes: 3, rates: [6, 12], bn: { affine: 'frozen', statistics: 'batch', momentum: 0.1, eps: 1e-5 }, upsampling: 'bilinear', pretrained: null, pretrained_strip_prefix: '', classifier_lr_multiplier: 10 },
      'pth',
      0,
    );
    try {
      const r = weights.loadSafetensorsInto(m.stateDict(), out);
      assert.deepEqual(r.missing, []);
      assert.deepEqual(r.unexpected, []);
      assert.deepEqual(r.mismatched, []);
      assert.equal(r.loaded.length, m.stateDict().size);
      assert.ok(r.ignored.every((n) => n.endsWith('num_batches_tracked')) && r.ignored.length > 0);
    } finally {
      m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
