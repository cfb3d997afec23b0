// Smoke test of the native TensorFlow backend, run by scripts/setup-tensorflow.sh (and usable by
// hand): loads the addon package named in argv[2] (default @tensorflow/tfjs-node), checks that the
// engine really runs on 'tensorflow' and that a conv2d weight gradient is exact.
// Exit 0 and one line `ok backend=… tf=… tfjs-node=…` on success; exit 1 with the reason otherwise.
import { createRequire } from 'node:module';
import path from 'node:path';

const pkg = process.argv[2] ?? '@tensorflow/tfjs-node';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'package.json'));

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

function fail(msg) {
  console.error(`smoke: ${msg}`);
  process.exit(1);
}

let tf;
try {
  tf = require(pkg);
} catch (e) {
  fail(`cannot load ${pkg}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
}

// One engine: the addon must have registered on the same tfjs-core the project imports.
const coreFromRoot = require.resolve('@tensorflow/tfjs-core');
const pkgDir = path.dirname(require.resolve(`${pkg}/package.json`));
const tfjsJson = createRequire(path.join(pkgDir, 'package.json')).resolve('@tensorflow/tfjs/package.json');
const coreFromPkg = createRequire(tfjsJson).resolve('@tensorflow/tfjs-core');
if (coreFromRoot !== coreFromPkg) {
  fail(`two copies of @tensorflow/tfjs-core (${coreFromRoot} vs ${coreFromPkg}); run npm dedupe`);
}

await tf.ready();
const backend = tf.getBackend();
if (backend !== 'tensorflow') fail(`tf.getBackend() is '${backend}', expected 'tensorflow'`);

// d/dW sum(conv2d(ones[1,5,5,2], W[3,3,2,4], 'same')): every weight sees 13*13 ones → 13²·2·4 = 1352.
const x = tf.ones([1, 5, 5, 2]);
const w = tf.randomNormal([3, 3, 2, 4]);
const g = tf.grad((wv) => tf.conv2d(x, wv, 1, 'same').sum())(w);
const total = (await g.sum().data())[0];
if (total !== 1352) fail(`conv2d weight-gradient check: sum is ${total}, expected 1352`);

const tfVersion = tf.backend().binding?.TF_Version ?? 'unknown';
const gpu = tf.backend().isUsingGpuDevice === true;
console.log(`ok backend=${backend} tf=${tfVersion} tfjs-node=${tf.version?.['tfjs-node'] ?? '?'}${pkg.endsWith('-gpu') ? ` gpu=${gpu}` : ''}`);
if (pkg.endsWith('-gpu') && !gpu) console.error('smoke: warning: TensorFlow sees no GPU (CUDA/cuDNN libraries or driver missing?); it runs on the CPU');
