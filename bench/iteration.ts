/**
 * One iteration of the real `adversarial-semi` trainer (plugins/methods/adversarial: Hung et al.,
 * BMVC 2018) timed per backend, against PyTorch on the same shapes in the same run
 * (bench/iteration_torch.py through tools/.venv). The ablate side is built as `ablate run` builds
 * it: experiments/quickstart.yaml through the plugin container (deeplabv2, fcdisc, sgd, adam, the
 * three loss plugins), with the self-training branch on from the first iteration, and its step is
 * `trainer.step` itself; only the data set is replaced by fixed synthetic batches of the same shapes
 * (so the timing is the step's, not the image decoder's). Each timed step includes what the trainer
 * does around its graph: turning the batches into tensors and reading the losses back.
 * Not a test: numbers depend on the machine and on its load.
 *
 * Usage: node --import tsx bench/iteration.ts [--backends tensorflow,wasm] [--eager] [--intra 1] [--depth 18 --width 16
 *        --crop 64 --batch 8 --ndf 16 --rates 1,2,3,4 --bn-affine trainable] [--steps 5 --warmup 2] [--rounds 1] [--profile]
 *        [--profile-shapes] [--ops] [--no-torch] [--torch-omp both|default|passive]
 *
 * The step runs as training runs it (BuildContext.runtime.compile): one TensorFlow graph per
 * iteration on tfjs-node (src/runtime, defineStep), op by op on other backends; --eager keeps it op
 * by op everywhere. PyTorch runs eagerly, as its users run it.
 *
 * PyTorch runs under both OpenMP wait policies by default: `default` (threads spin between
 * parallel regions; fastest on an idle machine) and `PASSIVE` (threads sleep; the only usable one
 * on a loaded machine, where spinning threads collapse). The `ratio:` line is against the faster.
 * --ops times every TensorFlow op ablate issues (wall time around tfjs-node's binding call; unlike
 * --profile it adds no read-back per kernel) and PyTorch's convolution kernels, per step.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendName } from '../src/runtime/index.js';
import { tf, definePlugin, SeededRng, type Batch, type BatchStream, type SegmentationDataset } from '../src/index.js';
import { loadExperiment } from '../src/config/index.js';
import { builtinRegistry } from '../src/plugin/bootstrap.js';
import { ExperimentContainer } from '../src/plugin/container.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

// Defaults = the mini-VOC experiments (experiments/_base_/models/deeplabv2-mini.yaml,
// datasets/mini-voc.yaml, schedules/mini.yaml, mini-voc/adv-semi.yaml).
const cfg = {
  depth: Number(arg('depth', '18')) as 18,
  width: Number(arg('width', '16')),
  classes: Number(arg('classes', '21')),
  rates: arg('rates', '1,2,3,4').split(',').map(Number),
  crop: Number(arg('crop', '64')),
  batch: Number(arg('batch', '8')),
  ndf: Number(arg('ndf', '16')),
  bnAffine: arg('bn-affine', 'trainable') as 'trainable' | 'frozen',
  steps: Number(arg('steps', '5')),
  warmup: Number(arg('warmup', '2')),
};
const backends = arg('backends', 'tensorflow,wasm').split(',') as BackendName[];

// ─── the trainer, built as a run builds it, on synthetic batches ────────────────────────────

/**
 * Fixed batches of the bench's shapes, one per stream name: images ~ N(0, 1); labels uniform over
 * the classes with a void band (top rows for the labeled stream, bottom rows for the others), as
 * bench/torch_common.py's stand-in batches.
 */
function syntheticBatch(name: string, subset: 'labeled' | 'unlabeled', n: number, s: number, classes: number): Batch {
  const rng = new SeededRng(name.length * 7919 + 1);
  const images = Float32Array.from({ length: n * s * s * 3 }, () => rng.normal());
  const band = name === 'labeled' ? [0, 4] : [s - 4, s];
  const labels = Int32Array.from({ length: n * s * s }, (_, i) => {
    const row = Math.floor(i / s) % s;
    return row >= band[0]! && row < band[1]! ? 255 : rng.int(0, classes);
  });
  return { ids: Array.from({ length: n }, (_, i) => `${name}-${i}`), shape: [n, s, s, 3], images, ...(subset === 'labeled' ? { labels } : {}) };
}

const syntheticDataset = definePlugin<'dataset', { num_classes: number; crop: number }>({
  kind: 'dataset',
  type: 'bench-synthetic',
  description: 'Fixed synthetic batches of the bench shapes (bench/iteration.ts only).',
  options: { type: 'object', properties: { num_classes: { type: 'integer' }, crop: { type: 'integer' } }, additionalProperties: false },
  create(o): SegmentationDataset {
    return {
      numClasses: o.num_classes,
      ignoreIndex: 255,
      classNames: Array.from({ length: o.num_classes }, (_, i) => `class${i}`),
      partition: { labeled: [], unlabeled: [] },
      stream(name, { subset, batchSize }): BatchStream {
        const batch = syntheticBatch(name, subset, batchSize, o.crop, o.num_classes);
        return { next: async () => batch, getState: () => ({}), setState() {}, close() {} };
      },
      async *evaluation() {},
      badSampleCount: () => 0,
    };
  },
});

/** experiments/quickstart.yaml with the bench's shapes, PyTorch's optimizer settings and synthetic data. */
let experimentOnce: ReturnType<typeof loadTrainerExperiment> | undefined;
const trainerExperiment = () => (experimentOnce ??= loadTrainerExperiment());

async function loadTrainerExperiment() {
  const registry = await builtinRegistry();
  const resolved = await loadExperiment(path.join(root, 'experiments', 'quickstart.yaml'), {
    registry,
    set: [
      `model.depth=${cfg.depth}`,
      `model.base_width=${cfg.width}`,
      `model.num_classes=${cfg.classes}`,
      `model.rates=[${cfg.rates.join(',')}]`,
      `model.bn.affine=${cfg.bnAffine}`,
      'model.pretrained=null',
      `discriminator.ndf=${cfg.ndf}`,
      `trainer.batch_size=${cfg.batch}`,
      'trainer.iterations=1000000',
      // Every branch from the first iteration: the unlabeled pass and the self-training loss.
      'trainer.semi_start=0',
      // PyTorch side: SGD(lr 2.5e-4, momentum 0.9), Adam(lr 1e-4, betas (0.9, 0.99)), no weight decay.
      'optimizer.weight_decay=0',
      'scheduler.lr=2.5e-4',
      'discriminator_scheduler.lr=1e-4',
    ],
  });
  registry.registerAll([syntheticDataset], 'bench');
  return { registry, config: { ...resolved.config, dataset: { type: 'bench-synthetic', num_classes: cfg.classes, crop: cfg.crop } }, baseDir: resolved.baseDir };
}

interface OpTime {
  op: string;
  ms: number;
  count: number;
}

interface BackendResult {
  backend: string;
  stepMs: number[];
  profile?: { kernel: string; ms: number; count: number }[];
  /** --ops: wall time per TensorFlow op type over the timed steps, per step. */
  ops?: OpTime[];
  error?: string;
}

/**
 * Times every TensorFlow op that tfjs-node executes, by op type, while `on()` is true. tfjs-node
 * sends each op through `backend.binding.executeOp`; the binding object is frozen, so the backend
 * gets a copy whose executeOp is wrapped. TensorFlow's eager ops run synchronously on the calling
 * thread, so the wall time around the call is the op's whole cost, dispatch included. `stop`
 * restores the original binding and returns the table, per step.
 */
function timeTensorFlowOps(): { stop: (steps: number) => OpTime[] } | undefined {
  const be = tf.backend() as unknown as { binding?: Record<string, unknown> };
  const original = be.binding;
  if (!original || typeof original['executeOp'] !== 'function') return undefined;
  const times = new Map<string, { ms: number; count: number }>();
  const execute = (original['executeOp'] as (...a: unknown[]) => unknown).bind(original);
  const wrapped: Record<string, unknown> = {};
  for (const k of Object.getOwnPropertyNames(original)) {
    const v = original[k];
    wrapped[k] = typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(original) : v;
  }
  wrapped['executeOp'] = (name: string, ...rest: unknown[]) => {
    const t0 = performance.now();
    const out = execute(name, ...rest);
    const e = times.get(name) ?? { ms: 0, count: 0 };
    e.ms += performance.now() - t0;
    e.count += 1;
    times.set(name, e);
    return out;
  };
  be.binding = wrapped;
  return {
    stop: (steps) => {
      be.binding = original;
      return [...times].map(([op, e]) => ({ op, ms: e.ms / steps, count: e.count / steps })).sort((a, b) => b.ms - a.ms);
    },
  };
}

async function runBackend(backend: BackendName, steps: number): Promise<BackendResult> {
  // As experiments/mini-voc sets it (runtime.threads.intra: 1); --intra 0 keeps TensorFlow's default.
  const intra = Number(arg('intra', '1'));
  const sel = await selectBackend({ backend, log: () => {}, ...(intra > 0 ? { threads: { intra } } : {}) });
  const experiment = await trainerExperiment();
  const logged: string[] = [];
  const log = { info: (m: string) => (logged.push(m), console.log(`  ${m}`)), warn: (m: string) => console.log(`  warning: ${m}`), debug() {} };
  // What the engine passes (runtime.compile): --eager turns compilation off.
  const container = new ExperimentContainer({ ...experiment, log, runtime: { backend: sel.name, compile: !flag('eager') } });
  const trainer = await container.get('trainer', 'trainer');
  const schedulers = await Promise.all(['scheduler', 'discriminator_scheduler'].map((slot) => container.get(slot, 'scheduler')));
  let iteration = 0;
  // The trainer's own random draws come from a seeded generator, as the engine hands it one.
  const stepContext = { rng: new SeededRng(0) };
  // One iteration as the engine runs it: schedules set the learning rates, then the trainer steps.
  const runStep = async () => {
    for (const s of schedulers) s.step(iteration);
    const { scalars } = await trainer.step(iteration++, stepContext);
    return scalars.loss_seg!;
  };

  const result: BackendResult = { backend: sel.name, stepMs: [] };
  try {
    // A compiled key is recorded and loaded on its first iteration (docs/engine.md).
    for (let i = 0; i < Math.max(cfg.warmup, 1); i++) await runStep();
    if (logged.some((m) => / compiled: \d+ TensorFlow ops/.test(m))) result.backend += ' (compiled step)';
    const before = tf.memory().numTensors;
    const opTimer = flag('ops') ? timeTensorFlowOps() : undefined;
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const loss = await runStep();
      result.stepMs.push(performance.now() - t0);
      if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
    }
    if (opTimer) result.ops = opTimer.stop(steps);
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) console.error(`  ${backend}: ${leaked} tensors leaked over ${steps} steps`);
    if (flag('profile')) {
      const prof = await tf.profile(async () => {
        await runStep();
      });
      const byKernel = new Map<string, { ms: number; count: number }>();
      const byShape = flag('profile-shapes');
      for (const k of prof.kernels) {
        const key = byShape && k.name.startsWith('Conv') ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
        const e = byKernel.get(key) ?? { ms: 0, count: 0 };
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        e.count += 1;
        byKernel.set(key, e);
      }
      result.profile = [...byKernel].map(([kernel, e]) => ({ kernel, ...e })).sort((a, b) => b.ms - a.ms);
    }
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    await trainer.close?.();
    await container.dispose();
  }
  return result;
}

type OmpPolicy = 'default' | 'passive';
interface TorchRun {
  policy: OmpPolicy;
  stepMs: number[];
  convGflop: number;
  torch: string;
  convMs?: number;
}

function runTorch(policy: OmpPolicy): TorchRun | { policy: OmpPolicy; error: string } {
  const py = path.join(root, 'tools', '.venv', 'bin', 'python');
  if (!existsSync(py)) return { policy, error: 'tools/.venv missing: run tools/setup-venv.sh' };
  const env = { ...process.env };
  // PASSIVE: OpenMP threads sleep between parallel regions. With the default spin-waiting,
  // PyTorch's 2 threads collapse on a loaded shared machine (measured 5–14 s per step vs
  // 0.26–0.39 s passive at load ~10), but on an idle machine spinning is ~1.5× faster.
  if (policy === 'passive') env['OMP_WAIT_POLICY'] = 'PASSIVE';
  else delete env['OMP_WAIT_POLICY'];
  const r = spawnSync(
    py,
    [path.join(root, 'bench', 'iteration_torch.py'), '--depth', String(cfg.depth), '--width', String(cfg.width), '--classes', String(cfg.classes), '--rates', cfg.rates.join(','), '--crop', String(cfg.crop), '--batch', String(cfg.batch), '--ndf', String(cfg.ndf), '--bn-affine', cfg.bnAffine, '--steps', String(cfg.steps), '--warmup', String(cfg.warmup), ...(flag('ops') ? ['--conv-time'] : [])],
    { encoding: 'utf8', env },
  );
  if (r.status !== 0) return { policy, error: (r.stderr || '').trim().split('\n').slice(-1)[0] ?? `exit ${r.status}` };
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { step_ms: number[]; conv_gflop: number; torch: string; conv_ms?: number };
  return { policy, stepMs: j.step_ms, convGflop: j.conv_gflop, torch: j.torch, convMs: j.conv_ms };
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number[]) => `median ${median(ms).toFixed(0)} ms, min ${Math.min(...ms).toFixed(0)} ms (${ms.map((m) => m.toFixed(0)).join(', ')})`;
const CONV_OPS = new Set(['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);

console.log(`# iteration bench: deeplabv2 r${cfg.depth} w${cfg.width} rates [${cfg.rates}] BN affine ${cfg.bnAffine} + fcdisc ndf ${cfg.ndf}, ${cfg.classes} classes, batch ${cfg.batch}, crop ${cfg.crop}`);
console.log(`# ablate: ${flag('eager') ? 'eager (op by op)' : 'compiled step (runtime.compile)'}, intra-op threads ${Number(arg('intra', '1')) > 0 ? arg('intra', '1') : "TensorFlow's default"}`);
console.log(`# machine: ${os.cpus()[0]?.model ?? '?'} ×${os.cpus().length}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
// PyTorch (under each OpenMP policy) and the ablate backends alternate for --rounds rounds, PyTorch
// first and last: the machine is shared, so each side is credited with its best round.
const rounds = Math.max(1, Number(arg('rounds', '1')));
const ompArg = arg('torch-omp', 'both');
const policies: OmpPolicy[] = ompArg === 'both' ? ['default', 'passive'] : ompArg === 'default' || ompArg === 'passive' ? [ompArg] : [];
if (!policies.length) throw new Error(`--torch-omp must be both, default or passive (got ${ompArg})`);
const torchAll: ReturnType<typeof runTorch>[] = [];
const runTorchRound = () => {
  if (!flag('no-torch')) for (const p of policies) torchAll.push(runTorch(p));
};
const results: BackendResult[] = [];
for (let round = 0; round < rounds; round++) {
  runTorchRound();
  for (const b of backends) {
    if (round > 0 && b !== 'tensorflow' && b !== 'tensorflow-gpu') continue; // slow backends: one round
    // wasm is ~20× slower: fewer timed steps keep the run short.
    const r = await runBackend(b, b === 'tensorflow' || b === 'tensorflow-gpu' ? cfg.steps : Math.min(cfg.steps, 2)).catch((e: Error) => ({ backend: b, stepMs: [], error: e.message }));
    results.push(r);
  }
}
runTorchRound();
const torchRuns = torchAll.filter((t): t is TorchRun => 'stepMs' in t);
const gflop = torchRuns[0]?.convGflop;
const bestByPolicy = new Map<OmpPolicy, number>();
for (const t of torchRuns) bestByPolicy.set(t.policy, Math.min(bestByPolicy.get(t.policy) ?? Infinity, median(t.stepMs)));
const torchMs = torchRuns.length ? Math.min(...bestByPolicy.values()) : undefined;
const fastestPolicy = [...bestByPolicy].find(([, ms]) => ms === torchMs)?.[0];
for (const [i, t] of torchRuns.entries()) {
  const conv = t.convMs !== undefined ? `, conv kernels ${t.convMs.toFixed(1)} ms/step (profiler)` : '';
  console.log(`pytorch ${t.torch} (2 threads, OMP_WAIT_POLICY ${t.policy}) run ${i + 1}: ${fmt(t.stepMs)}, conv ${(t.convGflop / (median(t.stepMs) / 1000)).toFixed(1)} GFLOP/s${conv}`);
}
for (const t of torchAll) if ('error' in t) console.log(`pytorch (OMP_WAIT_POLICY ${t.policy}): not run (${t.error})`);
for (const r of results) {
  if (r.error) {
    console.log(`${r.backend}: failed: ${r.error}`);
    continue;
  }
  const m = median(r.stepMs);
  console.log(`${r.backend}: ${fmt(r.stepMs)}${gflop ? `, conv ${(gflop / (m / 1000)).toFixed(1)} GFLOP/s` : ''}`);
  if (r.ops && !r.ops.length) console.log('  (compiled: one TensorFlow session call per step; run with --eager to time its ops one by one)');
  if (r.ops?.length) {
    const total = r.ops.reduce((a, o) => a + o.ms, 0);
    const conv = r.ops.filter((o) => CONV_OPS.has(o.op)).reduce((a, o) => a + o.ms, 0);
    console.log(`  TensorFlow ops per step: ${total.toFixed(1)} ms in ${r.ops.reduce((a, o) => a + o.count, 0).toFixed(0)} ops (conv kernels ${conv.toFixed(1)} ms); the rest of the step is JavaScript`);
    for (const o of r.ops.slice(0, 20)) console.log(`    ${o.op.padEnd(36)} ${o.ms.toFixed(2).padStart(7)} ms  ×${o.count.toFixed(0).padStart(4)}  ${((1000 * o.ms) / o.count).toFixed(0).padStart(5)} µs/op`);
  }
  if (r.profile) {
    const total = r.profile.reduce((a, p) => a + p.ms, 0);
    console.log(`  profile (${r.backend}, one step, kernel time ${total.toFixed(0)} ms, ${r.profile.reduce((a, p) => a + p.count, 0)} kernels):`);
    for (const p of r.profile.slice(0, flag('profile-shapes') ? 40 : 15)) console.log(`    ${p.kernel.padEnd(flag('profile-shapes') ? 70 : 24)} ${p.ms.toFixed(1).padStart(8)} ms ${((100 * p.ms) / total).toFixed(1).padStart(5)}%  ×${p.count}`);
  }
}
const tfRuns = results.filter((r) => r.backend.startsWith('tensorflow') && !r.error && r.stepMs.length);
const tfMs = tfRuns.length ? Math.min(...tfRuns.map((r) => median(r.stepMs))) : undefined;
if (tfMs && torchMs) {
  console.log(`best medians: ablate tensorflow ${tfMs.toFixed(0)} ms, pytorch ${torchMs.toFixed(0)} ms (OMP_WAIT_POLICY ${fastestPolicy})${gflop ? ` (conv ${(gflop / (tfMs / 1000)).toFixed(1)} vs ${(gflop / (torchMs / 1000)).toFixed(1)} GFLOP/s, ${gflop.toFixed(2)} GFLOP per step)` : ''}`);
  for (const [policy, ms] of bestByPolicy) if (bestByPolicy.size > 1) console.log(`ratio vs pytorch with OMP_WAIT_POLICY ${policy}: ${(tfMs / ms).toFixed(2)}`);
  console.log(`ratio: ${(tfMs / torchMs).toFixed(2)}`);
}
