/**
 * One AdvSemiSeg iteration (spec §3.3) timed per backend, against PyTorch on the same shapes in
 * the same run (bench/iteration_torch.py through tools/.venv):
 *   G fwd/bwd on an unlabeled batch (semi-adv BCE + confident-pseudo-label CE),
 *   G fwd/bwd on a labeled batch (CE + λ_adv BCE through D), D fwd/bwd on fake (labeled +
 *   unlabeled predictions) and real (one-hot GT), then SGD-momentum on G and Adam on D.
 * ablate's side uses its own optimizer plugins (plugins/optimizers: sgd, adam), as training does.
 * Not a test: numbers depend on the machine and on its load.
 *
 * Usage: node --import tsx bench/iteration.ts [--backends tensorflow,wasm] [--eager] [--intra 1] [--depth 18 --width 16
 *        --crop 64 --batch 8 --ndf 16 --rates 1,2,3,4 --bn-affine trainable] [--steps 5 --warmup 2] [--rounds 1] [--profile]
 *        [--profile-shapes] [--ops] [--no-torch] [--torch-omp both|default|passive]
 *
 * ablate's step runs as training runs it: compiled into one TensorFlow graph after two recorded
 * steps on tfjs-node (src/runtime/capture; runtime.compile), eagerly on other backends; --eager
 * keeps it op by op. PyTorch runs eagerly, as its users run it.
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
import { tf, nn } from '../src/index.js';
import { CompiledStep } from '../src/runtime/capture/compiled-step.js';
import type { BuildContext, NamedTensorMap, Network, Optimizer, Scalar, Tensor, Tensor4D } from '../src/index.js';
import { DeepLabV2 } from '../plugins/models/deeplabv2/index.js';
import { FcDiscriminator } from '../plugins/methods/adversarial/fcdisc.js';
import { sgdOptimizer } from '../plugins/optimizers/sgd.js';
import { adamOptimizer } from '../plugins/optimizers/adam.js';

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

// ─── losses (compositions of src/ primitives, so the bench does not depend on the loss plugins) ─

/** Mean CE over pixels whose label is not 255. */
function ce(logits: Tensor4D, labels: Tensor): Scalar {
  const valid = tf.cast(tf.notEqual(labels, 255), 'float32');
  const safe = tf.where(tf.notEqual(labels, 255), labels, tf.zerosLike(labels));
  // ablate's per-pixel CE (src/nn/loss.ts, what the loss plugins use): one fused op on tfjs-node.
  const perPixel = nn.softmaxCrossEntropy(logits, tf.cast(safe, 'int32'));
  return tf.div(tf.sum(tf.mul(perPixel, valid)), tf.maximum(tf.sum(valid), 1)) as Scalar;
}

/**
 * BCE-with-logits against a constant target, mean over pixels where keep = 1. Written as
 * softplus(x) − x·t, as the bce_adv plugin does (its gradient is exactly σ(x) − t; the relu/abs form
 * goes through tfjs-node's Step kernel, which builds full-size ones/fill arrays in JS).
 */
function bce(logits: Tensor4D, target: number, keep?: Tensor): Scalar {
  const x = tf.squeeze(logits, [3]);
  const l = tf.sub(tf.softplus(x), tf.mul(x, target));
  if (!keep) return tf.mean(l) as Scalar;
  return tf.div(tf.sum(tf.mul(l, keep)), tf.maximum(tf.sum(keep), 1)) as Scalar;
}

/** Just enough of a BuildContext for an optimizer plugin: its target network. */
function optimizerContext(slot: string, network: Network): BuildContext {
  const none = () => {
    throw new Error(`bench: ${slot} asked for something other than its target`);
  };
  const log = { info: () => {}, warn: () => {}, debug: () => {} };
  return { slot, seed: 0, runDir: undefined, baseDir: root, log, target: async <T>() => network as T, get: none, has: () => false, build: none };
}

function addGrads(a: NamedTensorMap, b: NamedTensorMap): NamedTensorMap {
  const out: NamedTensorMap = { ...a };
  for (const [k, g] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev ? tf.add(prev, g) : g;
    if (prev) {
      prev.dispose();
      g.dispose();
    }
  }
  return out;
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
  const G = new DeepLabV2(
    {
      depth: cfg.depth,
      base_width: cfg.width,
      num_classes: cfg.classes,
      rates: cfg.rates,
      bn: { affine: cfg.bnAffine, statistics: 'batch', momentum: 0.1, eps: 1e-5 },
      upsampling: 'bilinear',
      pretrained: null,
      pretrained_strip_prefix: '',
      classifier_lr_multiplier: 10,
    },
    'model',
    0,
  );
  const D = new FcDiscriminator({ ndf: cfg.ndf, num_classes: cfg.classes, leaky_slope: 0.2, lr_multiplier: 1 }, 'discriminator', 1);
  const gVars = G.parameterGroups().flatMap((g) => g.variables);
  const dVars = D.parameterGroups().flatMap((g) => g.variables);
  // PyTorch side: SGD(lr 2.5e-4, momentum 0.9), Adam(lr 1e-4, betas (0.9, 0.99)), no weight decay.
  const optG: Optimizer = await sgdOptimizer.create({ momentum: 0.9, dampening: 0, nesterov: false, weight_decay: 0, lr_multipliers: {}, weight_decays: {} }, optimizerContext('optimizer', G));
  const optD: Optimizer = await adamOptimizer.create({ betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0, decoupled_weight_decay: false, lr_multipliers: {}, weight_decays: {} }, optimizerContext('discriminator_optimizer', D));
  optG.learningRate = 2.5e-4;
  optD.learningRate = 1e-4;
  const { batch: n, crop: s, classes: c } = cfg;
  const xl = tf.randomNormal([n, s, s, 3], 0, 1, 'float32', 1) as Tensor4D;
  const xu = tf.randomNormal([n, s, s, 3], 0, 1, 'float32', 2) as Tensor4D;
  const band = (rows: [number, number]) => tf.tidy(() => {
    const r = tf.range(0, s).reshape([1, s, 1]);
    return tf.logicalAnd(tf.greaterEqual(r, rows[0]), tf.less(r, rows[1])).tile([n, 1, s]);
  });
  const withVoid = (seed: number, rows: [number, number]) => tf.tidy(() => tf.where(band(rows), tf.fill([n, s, s], 255, 'int32'), tf.randomUniform([n, s, s], 0, c, 'int32', seed)));
  const yl = withVoid(3, [0, 4]);
  const yr = withVoid(4, [s - 4, s]);

  // The step takes its batch as inputs and returns the loss as a tensor (read after the step), so
  // that it can run as one TensorFlow graph (src/runtime/capture).
  const step = (inputs: readonly Tensor[]): { loss: Tensor } => {
    const [xl, xu, yl, yr] = inputs as [Tensor4D, Tensor4D, Tensor, Tensor];
    // 1. unlabeled branch: G gets semi-adv BCE (+ pseudo-label CE); D's variables get no gradient.
    let predU!: Tensor4D;
    const gu = tf.variableGrads(() => {
      predU = tf.keep(G.apply(xu, { training: true }));
      const dU = D.apply(tf.softmax(predU), { training: true });
      // The pseudo-label is a constant target, made from detached values (as the reference's numpy
      // round trip does), so argmax and the comparison are not on the tape.
      const conf = tf.squeeze(tf.sigmoid(nn.stopGradient(dU)), [3]);
      const pseudo = tf.where(tf.less(conf, 0.2), tf.fill(conf.shape, 255, 'int32'), tf.argMax(nn.stopGradient(predU), 3));
      return tf.add(tf.mul(bce(dU, 1), 0.001), tf.mul(ce(predU, pseudo), 0.1)) as Scalar;
    }, gVars);
    // 2. labeled branch: CE + λ_adv·BCE(D(softmax(pred)), 1) ignoring void pixels.
    let predL!: Tensor4D;
    const keepL = tf.tidy(() => tf.cast(tf.notEqual(yl, 255), 'float32'));
    const gl = tf.variableGrads(() => {
      predL = tf.keep(G.apply(xl, { training: true }));
      const dL = D.apply(tf.softmax(predL), { training: true });
      return tf.add(ce(predL, yl), tf.mul(bce(dL, 1, keepL), 0.01)) as Scalar;
    }, gVars);
    // 3. D on fake (both predictions, detached) and on real one-hot GT, each /2.
    const fake = tf.tidy(() => tf.softmax(tf.concat([predL, predU])));
    const keepFake = tf.tidy(() => tf.concat([keepL, tf.onesLike(keepL)]));
    const keepR = tf.tidy(() => tf.cast(tf.notEqual(yr, 255), 'float32'));
    const onehot = tf.tidy(() => tf.mul(tf.oneHot(tf.minimum(yr, tf.scalar(c - 1, 'int32')), c), tf.expandDims(keepR, 3)) as Tensor4D);
    const df = tf.variableGrads(() => tf.div(bce(D.apply(fake as Tensor4D, { training: true }), 0, keepFake), 2) as Scalar, dVars);
    const dr = tf.variableGrads(() => tf.div(bce(D.apply(onehot, { training: true }), 1, keepR), 2) as Scalar, dVars);
    const gGrads = addGrads(gu.grads, gl.grads);
    const dGrads = addGrads(df.grads, dr.grads);
    optG.applyGradients(gGrads);
    optD.applyGradients(dGrads);
    tf.dispose([predU, predL, fake, keepFake, keepL, keepR, onehot, gu.value, df.value, dr.value, ...Object.values(gGrads), ...Object.values(dGrads)]);
    return { loss: gl.value };
  };
  // As the trainers run it (runtime.compile, default true): one TensorFlow graph per step once
  // recorded; --eager times the op-by-op execution instead.
  const compiled = flag('eager') ? undefined : new CompiledStep(step, (m) => console.log(`  ${m}`));
  const inputs = [xl, xu, yl, yr];
  const runStep = () => {
    const { loss } = compiled ? compiled.run(inputs) : step(inputs);
    const value = loss.dataSync()[0]!;
    loss.dispose();
    return value;
  };

  const result: BackendResult = { backend: sel.name, stepMs: [] };
  try {
    // A compiled step needs 3 calls (eager, then two recordings) before it runs as a graph.
    for (let i = 0; i < Math.max(cfg.warmup, compiled && sel.name.startsWith('tensorflow') ? 3 : 0); i++) runStep();
    if (compiled?.status().some((s) => s.compiled)) result.backend += ' (compiled step)';
    const before = tf.memory().numTensors;
    const opTimer = flag('ops') ? timeTensorFlowOps() : undefined;
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const loss = runStep();
      result.stepMs.push(performance.now() - t0);
      if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
    }
    if (opTimer) result.ops = opTimer.stop(steps);
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) console.error(`  ${backend}: ${leaked} tensors leaked over ${steps} steps`);
    if (flag('profile')) {
      const prof = await tf.profile(() => {
        runStep();
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
    compiled?.dispose();
    G.dispose();
    D.dispose();
    optG.dispose();
    optD.dispose();
    tf.dispose([xl, xu, yl, yr]);
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
