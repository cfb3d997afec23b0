/**
 * TensorFlow's native start-up lines (absl's "before InitializeLog" notice, "oneDNN custom
 * operations are on…") stay off stderr on a real `ablate run` unless ABLATE_TF_LOG=1; whatever else
 * native code writes to fd 2 while the addon loads still reaches stderr.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { keptNativeLines } from '../../src/runtime/native-stderr.js';
import { ablate, ensureBuilt, root } from '../support/cli.js';
import { tinyPluginsFile } from '../support/paths.js';
import { tmpDir } from '../support/tmp.js';

const BANNER = /absl::InitializeLog|oneDNN custom operations|cpu_feature_guard/;

/** The environment of a user who set nothing: no TF_CPP_MIN_LOG_LEVEL, no ABLATE_TF_LOG. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['TF_CPP_MIN_LOG_LEVEL'];
  delete env['ABLATE_TF_LOG'];
  return { ...env, ...extra };
}

test('ablate run on tensorflow: no native banner on stderr; ABLATE_TF_LOG=1 shows it', (t) => {
  const dir = tmpDir('tf-banner');
  writeFileSync(
    path.join(dir, 'tiny.yaml'),
    [
      'name: tf-banner',
      'seed: 0',
      `plugins: [${JSON.stringify(tinyPluginsFile)}]`,
      'runtime: {backend: tensorflow}',
      'model: {type: test-tiny-model}',
      'optimizer: {type: test-sgd, lr: 0.5}',
      'scheduler: {type: constant, lr: 0.5}',
      'dataset: {type: test-tiny-data}',
      'metrics: {acc: {type: test-pixel-acc}}',
      'trainer: {type: test-supervised, iterations: 2}',
      'output: {dir: runs}',
      '',
    ].join('\n'),
  );
  ensureBuilt();
  const quiet = ablate(['run', 'tiny.yaml'], dir, plainEnv());
  if (quiet.code !== 0 && /runtime\.backend 'tensorflow' is not available/.test(quiet.stderr) && process.env.ABLATE_EXPECT_TENSORFLOW !== '1') {
    t.skip('the tensorflow backend does not load here');
    return;
  }
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stderr, /backend tensorflow \(TensorFlow /);
  const noisy = quiet.stderr.split('\n').filter((l) => BANNER.test(l));
  assert.deepEqual(noisy, [], `banner lines on stderr:\n${quiet.stderr}`);

  const shown = ablate(['run', 'tiny.yaml'], dir, plainEnv({ ABLATE_TF_LOG: '1' }));
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stderr, /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/m);
  assert.match(shown.stderr, /port\.cc:\d+\] oneDNN custom operations are on/);
});

test('what native code writes to fd 2 during the load is filtered, not lost', () => {
  // A child loads "an addon" that writes straight to fd 2, as TensorFlow's initialisers do.
  const script = [
    "import { writeSync } from 'node:fs';",
    `import { withNativeStderrFiltered } from ${JSON.stringify(path.join(root, 'src/runtime/native-stderr.ts'))};`,
    "process.stderr.write('before\\n');",
    'const r = withNativeStderrFiltered(() => {',
    "  writeSync(2, 'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n');",
    "  writeSync(2, 'I0000 00:00:1796529767.493839    2083 port.cc:153] oneDNN custom operations are on.\\n');",
    "  writeSync(2, 'W0000 00:00:1796529767.493900    2083 loader.cc:12] a warning\\n');",
    "  writeSync(2, 'E0000 00:00:1796529767.494000    2083 loader.cc:13] a real error\\n');",
    "  writeSync(2, 'libfoo.so: cannot open shared object file\\n');",
    '  return 42;',
    '});',
    "process.stderr.write(`after ${r}\\n`);",
  ].join('\n');
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env });

  const filtered = run(plainEnv({ TF_CPP_MIN_LOG_LEVEL: '2' }));
  assert.equal(filtered.status, 0, filtered.stderr);
  assert.equal(
    filtered.stderr,
    'before\nE0000 00:00:1796529767.494000    2083 loader.cc:13] a real error\nlibfoo.so: cannot open shared object file\nafter 42\n',
  );

  const all = run(plainEnv({ ABLATE_TF_LOG: '1' }));
  assert.match(all.stderr, /absl::InitializeLog[\s\S]*oneDNN[\s\S]*a warning[\s\S]*a real error[\s\S]*after 42/);
});

test('keptNativeLines keeps what TF_CPP_MIN_LOG_LEVEL would keep, and every line that is not absl\'s', () => {
  const text = 'I0101 12:00:00.000001  7 a.cc:1] info\nW0101 12:00:00.000002  7 a.cc:2] warn\nplain\n';
  assert.equal(keptNativeLines(text, 0), text);
  assert.equal(keptNativeLines(text, 1), 'W0101 12:00:00.000002  7 a.cc:2] warn\nplain\n');
  assert.equal(keptNativeLines(text, 2), 'plain\n');
  assert.equal(keptNativeLines('', 2), '');
  assert.equal(keptNativeLines('no newline at the end', 2), 'no newline at the end');
});
