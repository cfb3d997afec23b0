import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { AblateError } from '../../src/errors.js';
import { runtimeOptionsSchema, selectBackend } from '../../src/runtime/index.js';
import { tf } from '../../src/runtime/tf.js';

const root = path.resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);

function gpuPackageInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node-gpu/package.json');
    return true;
  } catch {
    return false;
  }
}

test('explicit cpu and wasm are selected and logged', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    const lines: string[] = [];
    const sel = await selectBackend({ backend, log: (l) => lines.push(l) });
    assert.equal(sel.name, backend);
    assert.equal(tf.getBackend(), backend);
    assert.equal(sel.details.tfjsBackend, backend);
    assert.equal(sel.tfVersion, undefined);
    assert.match(sel.reason, /requested explicitly/);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`backend ${backend};`));
  }
});

test('auto picks tensorflow when the addon loads, else wasm, and says why', async () => {
  const lines: string[] = [];
  const sel = await selectBackend({ backend: 'auto', log: (l) => lines.push(l) });
  assert.ok(['tensorflow', 'wasm'].includes(sel.name), `auto chose ${sel.name}`);
  assert.match(sel.reason, /^auto: /);
  // tensorflow-gpu is always considered first and its skip reason recorded.
  assert.equal(sel.details.attempts[0]!.backend, 'tensorflow-gpu');
  if (sel.name === 'tensorflow') {
    assert.match(sel.tfVersion ?? '', /^2\.\d+\.\d+/);
    assert.match(lines[0]!, /TensorFlow 2\.\d+/);
    assert.equal(tf.getBackend(), 'tensorflow');
  } else {
    // Falling back is only legitimate when tensorflow failed, and the reason must say how.
    const tfAttempt = sel.details.attempts.find((a) => a.backend === 'tensorflow');
    assert.equal(tfAttempt?.ok, false);
    assert.match(sel.reason, /skipped .*tensorflow: /);
  }
  // CI builds the addon (`npm run setup:tensorflow` in .ci/run); there, falling back is a bug.
  if (process.env.ABLATE_EXPECT_TENSORFLOW === '1') assert.equal(sel.name, 'tensorflow', sel.reason);
  await selectBackend({ backend: 'cpu', log: () => {} });
});

test('tensorflow: thread and deterministic settings are applied before the addon loads', async (t) => {
  // A fresh process, because TensorFlow reads these once at start.
  const script = `
    import { selectBackend } from './src/runtime/index.js';
    const sel = await selectBackend({ backend: 'auto', threads: { intra: 1, inter: 1 }, deterministic: true, log: () => {} });
    const again = await selectBackend({ backend: sel.name, threads: { intra: 2 }, log: () => {} });
    console.log(JSON.stringify({ sel, again }));`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: '', TF_NUM_INTEROP_THREADS: '', TF_ENABLE_ONEDNN_OPTS: '' },
  });
  assert.equal(res.status, 0, res.stderr);
  const { sel, again } = JSON.parse(res.stdout.trim().split('\n').at(-1)!);
  assert.equal(sel.details.env.TF_NUM_INTRAOP_THREADS, '1');
  assert.equal(sel.details.env.TF_NUM_INTEROP_THREADS, '1');
  assert.equal(sel.details.env.TF_ENABLE_ONEDNN_OPTS, '0');
  if (sel.name !== 'tensorflow') {
    t.skip('tensorflow addon not built here; only the environment was checked');
    return;
  }
  // Asking for another thread count after TensorFlow started cannot work; it must say so.
  assert.equal(again.details.notes.length, 1);
  assert.match(again.details.notes[0], /TF_NUM_INTRAOP_THREADS=2 requested but TensorFlow already started with TF_NUM_INTRAOP_THREADS=1/);
});

test('an explicit backend that cannot load is a located AblateError with a fix', async () => {
  if (gpuPackageInstalled()) return; // on a GPU box the package exists; nothing to provoke here
  await assert.rejects(selectBackend({ backend: 'tensorflow-gpu', log: () => {} }), (e: unknown) => {
    assert.ok(e instanceof AblateError);
    assert.equal(e.code, 'runtime.backend-unavailable');
    assert.equal(e.where?.key, 'runtime.backend');
    assert.match(e.hint ?? '', /npm run setup:tensorflow -- --gpu/);
    return true;
  });
});

test('runtimeOptionsSchema validates the runtime block and fills defaults', () => {
  const ajv = new Ajv({ useDefaults: true, allErrors: true });
  const validate = ajv.compile(runtimeOptionsSchema);
  const cfg: Record<string, unknown> = {};
  assert.ok(validate(cfg));
  assert.deepEqual(cfg, { backend: 'auto', compile: 'auto', deterministic: false });
  assert.ok(validate({ backend: 'wasm', threads: { intra: 2, inter: 1 }, deterministic: true }));
  assert.ok(!validate({ backend: 'gpu' }));
  assert.ok(!validate({ threads: { intra: 0 } }));
  assert.ok(!validate({ threads: { intra: 1.5 } }));
  assert.ok(!validate({ backnd: 'cpu' }));
});

test('setup-tensorflow.sh rejects unknown arguments', () => {
  const res = spawnSync('bash', [path.join(root, 'scripts/setup-tensorflow.sh'), '--bogus'], { encoding: 'utf8' });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /unknown argument '--bogus'/);
});

test('a failed tensorflow build fails the strict setup but only warns from postinstall', () => {
  // A PATH with node and bash but no compiler: the build must stop at its tool check.
  const bin = mkdtempSync(path.join(os.tmpdir(), 'ablate-nogxx-'));
  try {
    for (const tool of ['bash', 'dirname', 'date']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, path.join(bin, tool));
    }
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const env = { ...process.env, PATH: bin };
    const strict = spawnSync(path.join(bin, 'bash'), [path.join(root, 'scripts/setup-tensorflow.sh'), '--force'], { env, encoding: 'utf8' });
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, /setup-tensorflow: FAILED: 'g\+\+' is missing/);
    const post = spawnSync(process.execPath, [path.join(root, 'scripts/postinstall.mjs'), '--force'], { env, encoding: 'utf8' });
    assert.equal(post.status, 0);
    assert.match(post.stderr, /FAILED: 'g\+\+' is missing/);
    assert.match(post.stderr, /fall back to the wasm\s+backend/);
    assert.match(post.stderr, /npm run setup:tensorflow/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('tensorflow really reads the thread settings (its thread count follows them)', async (t) => {
  const script = (intra: number, inter: number) => `
    import { readFileSync } from 'node:fs';
    import { selectBackend } from './src/runtime/index.js';
    import { tf } from './src/runtime/tf.js';
    const sel = await selectBackend({ backend: 'auto', threads: { intra: ${intra}, inter: ${inter} }, log: () => {} });
    tf.conv2d(tf.ones([1, 9, 9, 4]), tf.ones([3, 3, 4, 4]), 1, 'same').dataSync();
    console.log(sel.name, readFileSync('/proc/self/status', 'utf8').match(/Threads:\\s+(\\d+)/)[1]);`;
  const threads = (intra: number, inter: number): [string, number] => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(intra, inter)], { cwd: root, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const [name, n] = res.stdout.trim().split('\n').at(-1)!.split(' ');
    return [name!, Number(n)];
  };
  const [name, few] = threads(1, 1);
  if (name !== 'tensorflow') {
    t.skip('tensorflow addon not built here');
    return;
  }
  const [, many] = threads(8, 8);
  assert.ok(many >= few + 8, `threads with intra=inter=1: ${few}, with 8/8: ${many}`);
});
