/**
 * GPU metrics from nvidia-smi's CSV, under MLflow's GPU-monitor keys. There is no GPU on the
 * development machines: the parser is checked on nvidia-smi's output format, and the sampler on a
 * stand-in executable that prints it (and on one that is missing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GpuSampler, NVIDIA_SMI_QUERY, parseNvidiaSmi } from '../../src/engine/gpu-metrics.js';
import { tmpDir } from '../support/tmp.js';

// `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,power.limit
// --format=csv,noheader,nounits` on a two-GPU machine, the second without power readings.
const CSV = '0, 87, 10240, 16384, 210.50, 300.00\n1, 0, 3, 16384, [N/A], [N/A]\n';

test('nvidia-smi CSV becomes system/gpu_<i>_… metrics; [N/A] values are left out', () => {
  const m = parseNvidiaSmi(CSV);
  assert.equal(m['system/gpu_0_utilization_percentage'], 87);
  assert.ok(Math.abs(m['system/gpu_0_memory_usage_megabytes']! - 10240 * 1.048576) < 1e-9);
  assert.equal(m['system/gpu_0_memory_usage_percentage'], 62.5);
  assert.equal(m['system/gpu_0_power_usage_watts'], 210.5);
  assert.ok(Math.abs(m['system/gpu_0_power_usage_percentage']! - 70.1666) < 1e-3);
  assert.equal(m['system/gpu_1_utilization_percentage'], 0);
  assert.equal('system/gpu_1_power_usage_watts' in m, false);
  assert.deepEqual(parseNvidiaSmi('No devices were found\n'), {});
});

test('the sampler answers from the background query and goes quiet when nvidia-smi is missing', async () => {
  const dir = tmpDir('gpu');
  const fake = path.join(dir, 'nvidia-smi');
  // A stand-in that checks it is asked the documented query and prints the CSV.
  writeFileSync(fake, `#!/bin/sh\n[ "$1" = "--query-gpu=${NVIDIA_SMI_QUERY}" ] && [ "$2" = "--format=csv,noheader,nounits" ] || exit 9\nprintf '${CSV.replace(/\n/g, '\\n')}'\n`);
  chmodSync(fake, 0o755);
  const s = new GpuSampler(fake);
  assert.deepEqual(s.sample(), {}, 'nothing before the first answer');
  for (let i = 0; i < 100 && Object.keys(s.sample()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.sample()['system/gpu_0_utilization_percentage'], 87);

  const missing = new GpuSampler(path.join(dir, 'no-such-tool'));
  missing.sample();
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(missing.sample(), {});
});
