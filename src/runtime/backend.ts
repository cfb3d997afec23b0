/**
 * Chooses and initialises the tfjs backend for this process.
 *
 * Order for `auto`: tensorflow-gpu (only when @tensorflow/tfjs-node-gpu loads AND sees a GPU) →
 * tensorflow (tfjs-node built by scripts/setup-tensorflow.sh) → wasm (with our composed training
 * kernels) → cpu (pure JS; correct but far too slow to train convnets). The native packages are
 * loaded with dynamic imports so a missing or broken addon is a clean fallback, not a crash.
 *
 * TensorFlow reads its thread-pool sizes and oneDNN switch from the environment once, when the
 * library initialises, so those variables are set here *before* the addon is imported; asking for
 * different values after it loaded has no effect, which the result reports in `details.notes`.
 * What TensorFlow prints while it loads is filtered by ./native-stderr.ts (ABLATE_TF_LOG=1 shows it).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AblateError } from '../errors.js';
import { nativeLogWanted, withNativeStderrFiltered } from './native-stderr.js';
import { tf } from './tf.js';
import { registerComposedKernels } from './wasm-kernels.js';

export type BackendRequest = 'auto' | 'tensorflow' | 'tensorflow-gpu' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendRequest, 'auto'>;

export interface ThreadOptions {
  /** Threads inside one op (TF_NUM_INTRAOP_THREADS). Default: TensorFlow's (all cores). */
  intra?: number;
  /** Ops run in parallel (TF_NUM_INTEROP_THREADS). Default: TensorFlow's. */
  inter?: number;
}

export interface RuntimeOptions {
  backend?: BackendRequest;
  threads?: ThreadOptions;
  /** Turn off oneDNN's custom ops (TF_ENABLE_ONEDNN_OPTS=0) for bit-stable results. */
  deterministic?: boolean;
  /** Where the "chose X because Y" line goes; default stderr. Pass `() => {}` to silence. */
  log?: (line: string) => void;
}

export interface Attempt {
  backend: BackendName;
  ok: boolean;
  error?: string;
}

export interface BackendSelection {
  /** The backend in ablate's terms ('tensorflow-gpu' runs on tfjs's 'tensorflow' backend). */
  name: BackendName;
  /** One sentence: why this one. */
  reason: string;
  /** TensorFlow C library version, for the native backends. */
  tfVersion?: string;
  details: {
    /** tf.getBackend() after selection. */
    tfjsBackend: string;
    tfjsVersion: string;
    attempts: Attempt[];
    env: Record<string, string | undefined>;
    /** Composed kernels registered on wasm this call. */
    composedKernels?: string[];
    notes: string[];
  };
}

const TF_ENV_KEYS = ['TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', 'TF_ENABLE_ONEDNN_OPTS', 'TF_CPP_MIN_LOG_LEVEL'];

/** Minimal shape of the tfjs-node module and its backend that we read. */
interface NativeBackend {
  isUsingGpuDevice?: boolean;
  binding?: { TF_Version?: string };
}

// The loaded native package (at most one per process: both register the 'tensorflow' backend).
let nativeLoaded: { pkg: string; env: Record<string, string | undefined> } | undefined;

const require = createRequire(import.meta.url);

function errMsg(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/** Sets TF_* variables for the addon; returns notes when the addon already loaded with others. */
function applyEnv(opts: RuntimeOptions): string[] {
  const want: Record<string, string | undefined> = {};
  if (opts.threads?.intra !== undefined) want.TF_NUM_INTRAOP_THREADS = String(opts.threads.intra);
  if (opts.threads?.inter !== undefined) want.TF_NUM_INTEROP_THREADS = String(opts.threads.inter);
  if (opts.deterministic) want.TF_ENABLE_ONEDNN_OPTS = '0';
  // TF's INFO banner on every start is noise, unless the user asked for TensorFlow's log.
  if (!nativeLogWanted()) process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const notes: string[] = [];
  for (const [k, v] of Object.entries(want)) {
    if (nativeLoaded && nativeLoaded.env[k] !== v) {
      notes.push(`${k}=${v} requested but TensorFlow already started with ${k}=${nativeLoaded.env[k] ?? '(unset)'}; restart the process to change it`);
    }
    process.env[k] = v;
  }
  return notes;
}

function hasNvidiaDevice(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/version');
}

function resolvable(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** Imports a tfjs-node flavour (once) and activates its 'tensorflow' backend. */
async function loadNative(pkg: string): Promise<NativeBackend> {
  if (nativeLoaded && nativeLoaded.pkg !== pkg) {
    throw new Error(`${nativeLoaded.pkg} is already loaded in this process; cannot also load ${pkg}`);
  }
  if (!nativeLoaded) {
    // require, not import(): the load is one synchronous call, so the window in which fd 2 is
    // captured holds TensorFlow's start-up lines and nothing else of ours.
    withNativeStderrFiltered(() => require(pkg));
    nativeLoaded = { pkg, env: Object.fromEntries(TF_ENV_KEYS.map((k) => [k, process.env[k]])) };
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`backend 'tensorflow' of ${pkg} failed to initialise`);
  return tf.backend() as unknown as NativeBackend;
}

async function tryBackend(name: BackendName): Promise<{ tfVersion?: string; composed?: string[]; gpu?: boolean }> {
  switch (name) {
    case 'tensorflow-gpu': {
      const b = await loadNative('@tensorflow/tfjs-node-gpu');
      const version = b.binding?.TF_Version;
      return { gpu: b.isUsingGpuDevice === true, ...(version === undefined ? {} : { tfVersion: version }) };
    }
    case 'tensorflow': {
      // If the GPU build is what's loaded, it is a complete CPU TensorFlow too.
      const b = await loadNative(nativeLoaded?.pkg ?? '@tensorflow/tfjs-node');
      const version = b.binding?.TF_Version;
      return version === undefined ? {} : { tfVersion: version };
    }
    case 'wasm': {
      await import('@tensorflow/tfjs-backend-wasm');
      const composed = registerComposedKernels('wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error("backend 'wasm' failed to initialise");
      return { composed };
    }
    case 'cpu': {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error("backend 'cpu' failed to initialise");
      // tfjs-backend-cpu prints an "install tfjs-node" banner on first use in Node; our own log
      // line already says why cpu was chosen, so mark it as used.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return {};
    }
  }
}

const WHY: Record<BackendName, string> = {
  'tensorflow-gpu': 'native TensorFlow with a GPU',
  tensorflow: 'native TensorFlow (oneDNN), the fastest CPU backend',
  wasm: 'WebAssembly SIMD, single-threaded in Node; roughly 20x slower than tensorflow for conv training',
  cpu: 'pure JavaScript; correct but impractically slow for convnet training',
};

/**
 * Selects, initialises and logs the backend. Explicit requests that cannot be honoured throw an
 * AblateError (code `runtime.backend-unavailable`) saying what failed and how to fix it.
 */
export async function selectBackend(opts: RuntimeOptions = {}): Promise<BackendSelection> {
  const request = opts.backend ?? 'auto';
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const notes = applyEnv(opts);
  const attempts: Attempt[] = [];

  const candidates: BackendName[] =
    request === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [request];

  for (const name of candidates) {
    if (request === 'auto' && name === 'tensorflow-gpu') {
      // Loading the GPU build without a GPU would pin this process to it (one native TF per
      // process), so only try it where a GPU plausibly exists.
      if (!resolvable('@tensorflow/tfjs-node-gpu')) {
        attempts.push({ backend: name, ok: false, error: '@tensorflow/tfjs-node-gpu is not installed' });
        continue;
      }
      if (!hasNvidiaDevice()) {
        attempts.push({ backend: name, ok: false, error: 'no NVIDIA device on this machine' });
        continue;
      }
    }
    try {
      const r = await tryBackend(name);
      if (name === 'tensorflow-gpu' && !r.gpu) {
        attempts.push({ backend: name, ok: false, error: 'tfjs-node-gpu loaded but TensorFlow sees no GPU' });
        if (request === 'auto') continue; // next: 'tensorflow' reuses the loaded library on CPU
        throw new Error('TensorFlow sees no GPU (check the CUDA/cuDNN libraries and the driver)');
      }
      attempts.push({ backend: name, ok: true });
      const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.backend}: ${a.error}`);
      const reason =
        request === 'auto'
          ? `auto: ${WHY[name]}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}`
          : `requested explicitly: ${WHY[name]}`;
      const sel: BackendSelection = {
        name,
        reason,
        ...(r.tfVersion === undefined ? {} : { tfVersion: r.tfVersion }),
        details: {
          tfjsBackend: tf.getBackend(),
          tfjsVersion: tf.version_core,
          attempts,
          env: Object.fromEntries(TF_ENV_KEYS.map((k) => [k, process.env[k]])),
          ...(r.composed === undefined ? {} : { composedKernels: r.composed }),
          notes,
        },
      };
      const threads = name.startsWith('tensorflow') ? `; threads per op: ${process.env['TF_NUM_INTRAOP_THREADS'] ?? 'all cores'}` : '';
      log(`ablate runtime: backend ${name}${sel.tfVersion ? ` (TensorFlow ${sel.tfVersion})` : ''}; ${reason}${threads}`);
      for (const n of notes) log(`ablate runtime: note: ${n}`);
      return sel;
    } catch (e) {
      if (attempts.at(-1)?.backend !== name) attempts.push({ backend: name, ok: false, error: errMsg(e) });
      if (request !== 'auto') {
        const native = name === 'tensorflow' || name === 'tensorflow-gpu';
        throw new AblateError('runtime.backend-unavailable', `runtime.backend '${name}' is not available: ${errMsg(e)}`, {
          where: { key: 'runtime.backend' },
          hint: native
            ? `build it with: npm run setup:tensorflow${name === 'tensorflow-gpu' ? ' -- --gpu' : ''} (or use backend: auto to fall back to wasm)`
            : 'use backend: auto',
          cause: e,
        });
      }
    }
  }
  throw new AblateError('runtime.no-backend', 'no tfjs backend could be initialised', {
    where: { key: 'runtime.backend' },
    hint: attempts.map((a) => `${a.backend}: ${a.error}`).join('; '),
  });
}
