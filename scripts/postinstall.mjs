// `npm ci` / `npm install` hook: builds the native TensorFlow backend (scripts/setup-tensorflow.sh).
// A failure here must not fail the install: the project then runs on the wasm backend, so we print
// what failed and how to retry, and exit 0. `npm run setup:tensorflow` is the strict variant.
// Set ABLATE_SKIP_TENSORFLOW=1 to skip the build (e.g. a machine that will only run on wasm).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'scripts', 'setup-tensorflow.sh');

if (process.env.ABLATE_SKIP_TENSORFLOW === '1') {
  console.log('ablate postinstall: ABLATE_SKIP_TENSORFLOW=1, not building the tensorflow backend');
  process.exit(0);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  // The recipe uses the manylinux x86_64 wheel; elsewhere tfjs-node's own install may work.
  console.log(`ablate postinstall: no tensorflow build recipe for ${process.platform}/${process.arch}; using wasm`);
  process.exit(0);
}
if (!existsSync(script)) process.exit(0);

// Arguments (e.g. --force) go to the setup script.
const res = spawnSync('bash', [script, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
if (res.status !== 0) {
  const why = res.error ? res.error.message : `exit code ${res.status ?? res.signal}`;
  console.warn(
    [
      '',
      `ablate postinstall: WARNING: the tensorflow backend was not built (${why}; the line above`,
      'starting "setup-tensorflow: FAILED" says which step). ablate will fall back to the wasm',
      'backend, which trains about 20x slower. Retry with: npm run setup:tensorflow',
      '',
    ].join('\n'),
  );
}
process.exit(0);
