/**
 * Test-only plugins small enough to train in milliseconds: a 1×1-conv "segmentation model" with a
 * batch-norm-like running statistic, a momentum SGD, a synthetic dataset whose label is a function
 * of the pixel colour, a pixel-accuracy metric and a supervised trainer. They use only the public
 * API, like a user's plugins, and are deterministic on the cpu backend.
 */
import {
  definePlugin,
  tf,
  type AnyPlugin,
  type Batch,
  type BatchStream,
  type EvalSample,
  type Metric,
  type NamedTensorMap,
  type Optimizer,
  type SegmentationDataset,
  type SegmentationModel,
  type Trainer,
  type Variable,
} from '../../src/index.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { canonicalize } from '../../src/config/canonical.js';
import { builtinPlugins } from '../../plugins/manifest.js';

const CLASSES = 3;

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Image i: random colours; label = which channel is brightest. */
function sample(i: number, h: number, w: number): { image: Float32Array; label: Uint8Array } {
  const r = lcg(1000 + i);
  const image = new Float32Array(h * w * 3);
  const label = new Uint8Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let best = 0;
    for (let c = 0; c < 3; c++) {
      image[p * 3 + c] = r();
      if (image[p * 3 + c]! > image[p * 3 + best]!) best = c;
    }
    label[p] = r() < 0.05 ? 255 : best;
  }
  return { image, label };
}

const tinyModel = definePlugin<'model', { init_scale: number }>({
  kind: 'model',
  type: 'test-tiny-model',
  description: 'Test: a 1×1 convolution.',
  options: { type: 'object', properties: { init_scale: { type: 'number', default: 0.1 } } },
  create(options, ctx): SegmentationModel {
    const r = lcg(ctx.seed);
    const w = tf.variable(tf.tensor4d(Array.from({ length: 3 * CLASSES }, () => (r() - 0.5) * options.init_scale), [1, 1, 3, CLASSES]), true, `${ctx.slot}/conv.weight`);
    const b = tf.variable(tf.zeros([CLASSES]), true, `${ctx.slot}/conv.bias`);
    // A non-trainable statistic updated in training mode, like batch norm's running mean.
    const running = tf.variable(tf.zeros([3]), false, `${ctx.slot}/bn.running_mean`);
    return {
      numClasses: CLASSES,
      parameterGroups: () => [{ name: 'all', variables: [w, b], lrMultiplier: 1 }],
      stateDict: () =>
        new Map<string, Variable>([
          ['conv.weight', w],
          ['conv.bias', b],
          ['bn.running_mean', running],
        ]),
      apply(images, { training }) {
        if (training) {
          tf.tidy(() => running.assign(running.mul(0.9).add(tf.mean(images, [0, 1, 2]).mul(0.1))));
        }
        return tf.tidy(() => tf.add(tf.conv2d(images.sub(running), w, 1, 'same'), b) as tf.Tensor4D);
      },
      dispose() {
        w.dispose();
        b.dispose();
        running.dispose();
      },
    };
  },
});

const tinySgd = definePlugin<'optimizer', { lr: number; momentum: number }>({
  kind: 'optimizer',
  type: 'test-sgd',
  description: 'Test: SGD with momentum.',
  options: { type: 'object', properties: { lr: { type: 'number', default: 0.5 }, momentum: { type: 'number', default: 0.9 } } },
  async create(options, ctx): Promise<Optimizer> {
    const net = await ctx.target<SegmentationModel>();
    const vars = net.parameterGroups().flatMap((g) => g.variables);
    const buf = new Map<string, tf.Tensor>(vars.map((v) => [v.name, tf.keep(tf.zerosLike(v))]));
    const opt: Optimizer = {
      learningRate: options.lr,
      learningRates: () => ({ all: opt.learningRate }),
      applyGradients(grads: NamedTensorMap) {
        for (const v of vars) {
          const g = grads[v.name];
          if (!g) continue;
          const m = tf.tidy(() => buf.get(v.name)!.mul(options.momentum).add(g));
          buf.get(v.name)!.dispose();
          buf.set(v.name, tf.keep(m));
          tf.tidy(() => v.assign(v.sub(m.mul(opt.learningRate))));
        }
      },
      getState: () => Object.fromEntries([...buf].map(([k, t]) => [`${k}/momentum`, t.clone()])),
      setState(state) {
        for (const k of buf.keys()) {
          const t = state[`${k}/momentum`];
          if (!t) continue;
          buf.get(k)!.dispose();
          buf.set(k, tf.keep(t.clone()));
        }
      },
      dispose: () => buf.forEach((t) => t.dispose()),
    };
    return opt;
  },
});

interface DatasetOptions {
  train: number;
  val: number;
  size: number;
  eval_pad: number;
}

const tinyDataset = definePlugin<'dataset', DatasetOptions>({
  kind: 'dataset',
  type: 'test-tiny-data',
  description: 'Test: synthetic colour images.',
  options: {
    type: 'object',
    properties: {
      train: { type: 'integer', default: 10 },
      val: { type: 'integer', default: 3 },
      size: { type: 'integer', default: 6 },
      eval_pad: { type: 'integer', default: 2 },
    },
  },
  create(o): SegmentationDataset {
    const ids = Array.from({ length: o.train }, (_, i) => `t${i}`);
    return {
      numClasses: CLASSES,
      ignoreIndex: 255,
      classNames: ['red', 'green', 'blue'],
      partition: { labeled: ids, unlabeled: [] },
      stream(_role, { batchSize, seed }): BatchStream {
        let pos = 0;
        let epoch = 0;
        const order = () => {
          const r = lcg(seed + epoch * 7919);
          const a = ids.map((_, i) => i);
          for (let i = a.length - 1; i > 0; i--) {
            const j = Math.floor(r() * (i + 1));
            [a[i], a[j]] = [a[j]!, a[i]!];
          }
          return a;
        };
        let perm = order();
        return {
          async next(): Promise<Batch> {
            const n = batchSize;
            const s = o.size;
            const images = new Float32Array(n * s * s * 3);
            const labels = new Int32Array(n * s * s);
            const got: string[] = [];
            for (let k = 0; k < n; k++) {
              if (pos >= perm.length) {
                epoch++;
                pos = 0;
                perm = order();
              }
              const idx = perm[pos++]!;
              const smp = sample(idx, s, s);
              images.set(smp.image, k * s * s * 3);
              labels.set(smp.label, k * s * s);
              got.push(`t${idx}`);
            }
            return { ids: got, shape: [n, s, s, 3], images, labels };
          },
          getState: () => ({ pos, epoch }),
          setState(st) {
            epoch = st.epoch ?? 0;
            perm = order();
            pos = st.pos ?? 0;
          },
          close() {},
        };
      },
      async *evaluation(opts = {}): AsyncIterable<EvalSample> {
        const n = Math.min(o.val, opts.limit ?? o.val);
        for (let i = 0; i < n; i++) {
          // Non-square originals padded bottom/right, labels padded with 255, as the spec's protocol.
          const h = o.size;
          const w = o.size - 1;
          const H = h + o.eval_pad;
          const W = w + o.eval_pad;
          const smp = sample(500 + i, h, w);
          const image = new Float32Array(H * W * 3);
          for (let y = 0; y < h; y++) image.set(smp.image.subarray(y * w * 3, (y + 1) * w * 3), y * W * 3);
          yield { id: `v${i}`, shape: [1, H, W, 3], image, label: smp.label, height: h, width: w };
        }
      },
      badSampleCount: () => 0,
    };
  },
});

const pixelAccuracy = definePlugin<'metric', Record<string, never>>({
  kind: 'metric',
  type: 'test-pixel-acc',
  description: 'Test: pixel accuracy.',
  options: { type: 'object' },
  create(): Metric {
    let right = 0;
    let total = 0;
    return {
      reset() {
        right = 0;
        total = 0;
      },
      update(p, t) {
        if (p.length !== t.length) throw new Error(`metric got ${p.length} predictions for ${t.length} labels`);
        for (let i = 0; i < t.length; i++) {
          if (t[i] === 255) continue;
          total++;
          if (p[i] === t[i]) right++;
        }
      },
      compute: () => ({ scalars: { pixel_acc: total ? right / total : 0, pixels: total } }),
    };
  },
});

interface TrainerOptions {
  iterations: number;
  batch_size: number;
  nan_at: number;
  sleep_ms: number;
  poison_state_at: number;
  loss_weight: number;
  note: string;
}

const tinyTrainer = definePlugin<'trainer', TrainerOptions>({
  kind: 'trainer',
  type: 'test-supervised',
  description: 'Test: supervised cross-entropy.',
  options: {
    type: 'object',
    properties: {
      iterations: { type: 'integer', default: 10 },
      batch_size: { type: 'integer', default: 2 },
      nan_at: { type: 'integer', default: -1 },
      sleep_ms: { type: 'integer', default: 0 },
      // After this iteration's step the model's running statistic is +Infinity while the loss
      // reported for the step is still finite (like a batch-norm variance that diverged first).
      poison_state_at: { type: 'integer', default: -1 },
      loss_weight: { type: 'number', default: 1, 'x-resumable': true },
      // Free text the trainer ignores (tests plant values here, e.g. a secret from the environment).
      note: { type: 'string', default: '' },
    },
  },
  async create(o, ctx): Promise<Trainer> {
    const model = await ctx.get('model', 'model');
    const optimizer = await ctx.get('optimizer', 'optimizer');
    const dataset = await ctx.get('dataset', 'dataset');
    const stream = dataset.stream('labeled', { subset: 'labeled', batchSize: o.batch_size, seed: ctx.seed });
    let closed = false;
    return {
      iterations: o.iterations,
      async step(it) {
        const batch = await stream.next();
        if (o.sleep_ms > 0) await new Promise((r) => setTimeout(r, o.sleep_ms));
        const { value, grads } = tf.variableGrads(() => {
          const x = tf.tensor4d(batch.images, batch.shape);
          const y = tf.tensor1d(batch.labels!, 'int32');
          const valid = tf.notEqual(y, 255);
          const logits = model.apply(x, { training: true }).reshape([-1, CLASSES]);
          const onehot = tf.oneHot(tf.where(valid, y, tf.zerosLike(y)), CLASSES);
          const ce = tf.losses.softmaxCrossEntropy(onehot, logits, tf.cast(valid, 'float32')) as tf.Scalar;
          const weight = o.loss_weight ?? 1; // the hand-built test experiments skip schema defaults
          const weighted = weight === 1 ? ce : (ce.mul(weight) as tf.Scalar);
          return it === o.nan_at ? (weighted.mul(Number.NaN) as tf.Scalar) : weighted;
        });
        optimizer.applyGradients(grads);
        if (it === o.poison_state_at) {
          const running = model.stateDict().get('bn.running_mean')!;
          running.assign(tf.fill(running.shape, Number.POSITIVE_INFINITY));
        }
        const loss = value.dataSync()[0]!;
        tf.dispose([value, ...Object.values(grads)]);
        return { scalars: { loss } };
      },
      getState: () => ({ stream: stream.getState() }),
      setState(s) {
        stream.setState((s.stream ?? {}) as Record<string, number>);
      },
      close() {
        closed = true;
        stream.close();
        void closed;
      },
    };
  },
});

/**
 * A supervised trainer that also owns a network, a "teacher" that follows the model as an
 * exponential moving average (like a mean teacher's), and draws one number per step from the run's
 * generator (logged as `draw`), so tests can check that both survive checkpoint → resume.
 */
const teacherTrainer = definePlugin<'trainer', TrainerOptions & { decay: number; teacher_name: string }>({
  kind: 'trainer',
  type: 'test-teacher',
  description: 'Test: supervised, with an EMA teacher network it owns.',
  options: {
    type: 'object',
    properties: {
      ...tinyTrainer.options.properties as Record<string, unknown>,
      decay: { type: 'number', default: 0.7 },
      teacher_name: { type: 'string', default: 'teacher' },
    },
  },
  async create(o, ctx): Promise<Trainer> {
    const student = await tinyTrainer.create(o, ctx);
    const model = await ctx.get('model', 'model');
    // Built like a slot's model but named by the trainer, so its variables are trainer/<name>/….
    const teacher = await tinyModel.create({ init_scale: 3 }, { ...ctx, slot: `trainer/${o.teacher_name}`, seed: ctx.seed + 1 });
    return {
      iterations: o.iterations,
      async step(it, stepCtx) {
        const { scalars } = await student.step(it, stepCtx);
        const mine = teacher.stateDict();
        for (const [name, v] of model.stateDict()) {
          const t = mine.get(name)!;
          tf.tidy(() => t.assign(t.mul(o.decay).add(v.mul(1 - o.decay))));
        }
        return { scalars: { ...scalars, draw: stepCtx.rng.next() } };
      },
      networks: () => new Map([[o.teacher_name, teacher]]),
      getState: () => student.getState(),
      setState: (st) => student.setState(st),
      close() {
        teacher.dispose();
        return student.close?.();
      },
    };
  },
});

export const tinyPlugins: readonly AnyPlugin[] = [tinyModel, tinySgd, tinyDataset, pixelAccuracy, tinyTrainer, teacherTrainer];

export function tinyRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  r.registerAll(builtinPlugins, 'builtin');
  r.registerAll(tinyPlugins, 'test');
  return r;
}

/** A resolved experiment built by hand (the config language is tested elsewhere). */
export function tinyExperiment(
  outDir: string,
  overrides: { trainer?: Record<string, unknown>; checkpoint?: Record<string, unknown>; evaluation?: Record<string, unknown>; model?: Record<string, unknown>; optimizer?: Record<string, unknown>; scheduler?: Record<string, unknown>; dataset?: Record<string, unknown> } = {},
) {
  const config: Record<string, unknown> = {
    name: 'engine-test',
    seed: 0,
    runtime: { backend: 'cpu' },
    model: { type: 'test-tiny-model', init_scale: 0.1, ...overrides.model },
    optimizer: { type: 'test-sgd', lr: 0.5, momentum: 0.9, ...overrides.optimizer },
    scheduler: { type: 'constant', lr: 0.5, ...overrides.scheduler },
    dataset: { type: 'test-tiny-data', train: 10, val: 3, size: 6, eval_pad: 2, ...overrides.dataset },
    metrics: { acc: { type: 'test-pixel-acc' } },
    trainer: { type: 'test-supervised', iterations: 12, batch_size: 2, nan_at: -1, sleep_ms: 0, ...overrides.trainer },
    evaluation: { every: 0, limit: null, ...overrides.evaluation },
    checkpoint: { every: 5, keep_last: 2, ...overrides.checkpoint },
    output: { dir: outDir },
    progress: { bar: 'never', log_every: 0 },
    trackers: [{ type: 'local' }],
  };
  // The real run identity (sorted keys, sha256 of the canonical JSON), so a run folder's config.yaml
  // hashes back to its checkpoints' configHash like a loaded experiment's does.
  const c = canonicalize(config);
  return { config: c.canonical, canonicalYaml: c.yaml, hash: c.hash, baseDir: outDir };
}

/** Loadable from an experiment's `plugins:` list (CLI tests through a child process). */
export const plugins = tinyPlugins;
