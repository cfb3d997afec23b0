/**
 * Test-only plugins: a tiny generator and discriminator defined exactly like TinyG/TinyD in
 * tools/make_method_fixtures.py (weights in PyTorch layout and names), and a dataset that serves
 * fixed or seeded random batches. Registered only by the tests.
 */
import type { Discriminator } from '../../plugins/methods/adversarial/index.js';
import { tf, definePlugin, type Batch, type BatchStream, type ParameterGroup, type SegmentationDataset, type SegmentationModel, type StreamOptions, type Tensor, type Tensor4D, type Variable } from '../../src/index.js';

export interface InitTensor {
  shape: number[];
  values: number[];
}

let instances = 0;

/** Variables from PyTorch tensors: conv weights OIHW → HWIO. Unique tfjs names per instance. */
function makeVariables(slot: string, shapes: Record<string, number[]>, init: Record<string, InitTensor> | undefined, seed: number): Map<string, Variable> {
  const id = instances++;
  const out = new Map<string, Variable>();
  for (const [name, shape] of Object.entries(shapes)) {
    const given = init?.[`${slot}/${name}`];
    const torchValue = given ? tf.tensor(given.values, given.shape) : tf.randomUniform(shape, -0.3, 0.3, 'float32', seed + out.size);
    const value = shape.length === 4 ? torchValue.transpose([2, 3, 1, 0]) : torchValue;
    out.set(name, tf.variable(value, true, `${slot}.${id}/${name}`));
    tf.dispose([torchValue, value]);
  }
  return out;
}

const pad1 = (x: Tensor) => tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]);
const conv = (x: Tensor, w: Variable, b: Variable, stride: number) => tf.conv2d(x as Tensor4D, w as tf.Tensor4D, stride, 'valid').add(b) as Tensor4D;
const upsampleTo = (y: Tensor4D, like: Tensor4D) => tf.image.resizeBilinear(y, [like.shape[1], like.shape[2]], true);

interface TinyOptions {
  num_classes: number;
}

/** Weights passed by the tests before building (kept out of the options, which are JSON-validated). */
export const tinyInit: { weights?: Record<string, InitTensor> } = {};

export const tinyGenerator = definePlugin<'model', TinyOptions>({
  kind: 'model',
  type: 'tiny-gen',
  description: 'Test generator: conv3x3/s2 + ReLU + conv1x1 classifier, bilinear upsampling to the input.',
  options: { type: 'object', properties: { num_classes: { type: 'integer', default: 3, description: 'classes' } }, additionalProperties: false },
  create(o, ctx): SegmentationModel {
    const c = o.num_classes;
    const v = makeVariables('model', { 'conv1.weight': [4, 3, 3, 3], 'conv1.bias': [4], 'classifier.weight': [c, 4, 1, 1], 'classifier.bias': [c] }, tinyInit.weights, ctx.seed);
    const get = (n: string) => v.get(n)!;
    const groups: ParameterGroup[] = [
      { name: 'backbone', variables: [get('conv1.weight'), get('conv1.bias')], lrMultiplier: 1 },
      { name: 'classifier', variables: [get('classifier.weight'), get('classifier.bias')], lrMultiplier: 10 },
    ];
    return {
      numClasses: c,
      parameterGroups: () => groups,
      stateDict: () => v,
      dispose: () => v.forEach((x) => x.dispose()),
      apply: (x) =>
        tf.tidy(() => {
          const h = tf.relu(conv(pad1(x), get('conv1.weight'), get('conv1.bias'), 2));
          return upsampleTo(conv(h, get('classifier.weight'), get('classifier.bias'), 1), x);
        }),
    };
  },
});

export const tinyDiscriminator = definePlugin<'discriminator', TinyOptions>({
  kind: 'discriminator',
  type: 'tiny-disc',
  description: 'Test discriminator: two 4x4/s2/p1 convs with LeakyReLU(0.2), bilinear upsampling to the input.',
  options: { type: 'object', properties: { num_classes: { type: 'integer', default: 3, description: 'classes' } }, additionalProperties: false },
  create(o, ctx): Discriminator {
    const v = makeVariables('discriminator', { 'conv1.weight': [4, o.num_classes, 4, 4], 'conv1.bias': [4], 'conv2.weight': [1, 4, 4, 4], 'conv2.bias': [1] }, tinyInit.weights, ctx.seed + 100);
    const get = (n: string) => v.get(n)!;
    const groups: ParameterGroup[] = [{ name: 'all', variables: [...v.values()], lrMultiplier: 1 }];
    return {
      parameterGroups: () => groups,
      stateDict: () => v,
      dispose: () => v.forEach((x) => x.dispose()),
      apply: (x) =>
        tf.tidy(() => {
          const h = tf.leakyRelu(conv(pad1(x), get('conv1.weight'), get('conv1.bias'), 2), 0.2);
          return upsampleTo(conv(pad1(h), get('conv2.weight'), get('conv2.bias'), 2), x);
        }),
    };
  },
});

/** What a test dataset serves: a function from (the trainer's stream name, batch index) to a batch. */
export const batchSource: { make?: (name: string, index: number, batchSize: number, subset: StreamOptions['subset']) => Batch; requested: string[]; opened: Record<string, StreamOptions> } = { requested: [], opened: {} };

/** Seeded random batches of H×W images and labels (with a void row), for runs of any length. */
export function randomBatches(h: number, w: number, numClasses: number): (name: string, index: number, n: number, subset: StreamOptions['subset']) => Batch {
  return (name, index, n, subset) => {
    let s = (index * 7919 + name.length * 104729) >>> 0 || 1;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const images = Float32Array.from({ length: n * h * w * 3 }, () => (rnd() - 0.5) * 100);
    const labels = Int32Array.from({ length: n * h * w }, (_, i) => (Math.floor(i / w) % h === h - 1 ? 255 : Math.floor(rnd() * numClasses)));
    return { ids: Array.from({ length: n }, (_, i) => `${name}-${index}-${i}`), shape: [n, h, w, 3], images, labels: subset === 'unlabeled' ? undefined : labels };
  };
}

export const fixtureDataset = definePlugin<'dataset', TinyOptions>({
  kind: 'dataset',
  type: 'test-batches',
  description: 'Test dataset serving batches from batchSource.make.',
  options: { type: 'object', properties: { num_classes: { type: 'integer', default: 3, description: 'classes' } }, additionalProperties: false },
  create(o): SegmentationDataset {
    return {
      numClasses: o.num_classes,
      ignoreIndex: 255,
      classNames: Array.from({ length: o.num_classes }, (_, i) => `c${i}`),
      partition: { labeled: [], unlabeled: [] },
      stream(name, opts): BatchStream {
        const { batchSize, subset } = opts;
        batchSource.requested.push(name);
        batchSource.opened[name] = opts;
        let position = 0;
        return {
          next: async () => batchSource.make!(name, position++, batchSize, subset),
          getState: () => ({ position }),
          setState: (st) => {
            position = st.position ?? 0;
          },
          close() {},
        };
      },
      async *evaluation() {},
      badSampleCount: () => 0,
    };
  },
});

export const testPlugins = [tinyGenerator, tinyDiscriminator, fixtureDataset];
