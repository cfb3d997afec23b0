/**
 * Pretrains mini-VOC's backbone: the stand-in for the ImageNet/COCO initialisation that every
 * AdvSemiSeg row starts from (Hung et al. 2018, §4.1: DeepLab-v2 initialised from ImageNet/COCO). Without it the mini DeepLab-v2 learns from scratch and,
 * on 2 CPU cores, stays at background level for the whole table (docs/results/mini-voc-table.md).
 *
 * The task is glyph classification, ImageNet's job in miniature: one object of mini-VOC's 20
 * classes on a mini-VOC-style textured background, label = its class, backbone → global average
 * pool → linear. Shapes come from mini-VOC's *training* pool only, so the backbone never sees an
 * evaluation shape, and it never sees a segmentation mask. (As ImageNet knows VOC's categories,
 * this backbone knows mini-VOC's; all rows of the table share it, so the comparison stays fair.)
 *
 * The output holds the backbone's tensors under the deeplabv2 plugin's PyTorch state-dict names
 * (conv1.weight, bn1.*, layer1.0.conv1.weight, …; no classifier), for `model.pretrained`.
 *
 * Usage:
 *   node --import tsx tools/pretrain-mini-backbone.ts [--out weights/mini-voc/resnet18-w16-glyphs.safetensors]
 *     [--depth 18] [--width 16] [--iterations 4000] [--batch 32] [--size 48] [--optimizer adam|sgd]
 *     [--lr 0.002] [--seed 0] [--eval-images 1000] [--backend auto|tensorflow|wasm|cpu]
 *     [--max-rotation 0] [--max-shear 0]
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nn, tf, weights, SeededRng, mixSeed } from '../src/index.js';
import type { Tensor4D, Variable } from '../src/index.js';
import { selectBackend, type BackendRequest } from '../src/runtime/index.js';
import { ResNetBackbone } from '../plugins/models/deeplabv2/resnet.js';
import { compose, type ComposeOptions } from '../plugins/datasets/mini-voc/compose.js';
import { loadGlyphPools, MINI_VOC_CLASSES } from '../plugins/datasets/mini-voc/glyphs.js';
import { composeOptions as buildComposeOptions, MINI_VOC_BUILD_DEFAULTS } from '../plugins/datasets/mini-voc/build.js';
import { REFERENCE_NORMALIZE } from '../plugins/datasets/common.js';

type Tensor2D = tf.Tensor2D;

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'weights/mini-voc/resnet18-w16-glyphs.safetensors' },
    depth: { type: 'string', default: '18' },
    width: { type: 'string', default: '16' },
    iterations: { type: 'string', default: '4000' },
    batch: { type: 'string', default: '32' },
    size: { type: 'string', default: '48' },
    lr: { type: 'string', default: '0.002' },
    seed: { type: 'string', default: '0' },
    optimizer: { type: 'string', default: 'adam' },
    backend: { type: 'string', default: 'auto' },
    'eval-images': { type: 'string', default: '1000' },
    // The builder's shape warping (its max_rotation / max_shear), for training shapes only.
    'max-rotation': { type: 'string', default: String(MINI_VOC_BUILD_DEFAULTS.max_rotation) },
    'max-shear': { type: 'string', default: String(MINI_VOC_BUILD_DEFAULTS.max_shear) },
  },
});

const depth = Number(args.depth);
const width = Number(args.width);
const iterations = Number(args.iterations);
const batch = Number(args.batch);
const size = Number(args.size);
const baseLr = Number(args.lr);
const seed = Number(args.seed);
const evalImages = Number(args['eval-images']);
const classes = MINI_VOC_CLASSES.length - 1; // object classes 1..20
const MOMENTUM = 0.9;
const WEIGHT_DECAY = 1e-4;

/** One object per image, drawn by the builder's defaults (stroke, clutter, noise), at mini-VOC's object pixel size. */
const composeOptions: ComposeOptions = {
  ...buildComposeOptions(MINI_VOC_BUILD_DEFAULTS),
  size,
  min_objects: 1,
  max_objects: 1,
  // Keep mini-VOC's object pixel size (a fraction of a 64 px side) on the smaller canvas.
  min_scale: Math.min(0.95, (MINI_VOC_BUILD_DEFAULTS.min_scale * MINI_VOC_BUILD_DEFAULTS.size) / size),
  max_scale: Math.min(1.0, (MINI_VOC_BUILD_DEFAULTS.max_scale * MINI_VOC_BUILD_DEFAULTS.size) / size),
  max_rotation: Number(args['max-rotation']),
  max_shear: Number(args['max-shear']),
};

/** The class of the single object: the most frequent label other than background and void. */
function objectClass(label: Uint8Array): number {
  const counts = new Uint32Array(256);
  for (const v of label) counts[v] = (counts[v] as number) + 1;
  let best = 0;
  let most = 0;
  for (let c = 1; c <= classes; c++) {
    if ((counts[c] as number) > most) [best, most] = [c, counts[c] as number];
  }
  return best;
}

/** A batch as the segmentation pipeline feeds it: RGB minus the reference mean (0–255 units). */
function makeBatch(rng: SeededRng, pools: Float32Array[][], n: number, drawing: ComposeOptions = composeOptions): { x: Tensor4D; y: Tensor2D } {
  const pixels = new Float32Array(n * size * size * 3);
  const labels = new Float32Array(n * classes);
  const mean = REFERENCE_NORMALIZE.mean as [number, number, number];
  for (let i = 0; i < n; i++) {
    let cls = 0;
    let rgb: Uint8Array = new Uint8Array(0);
    // An object pushed almost out of the canvas leaves no labelled pixel: draw again.
    while (cls === 0) {
      const c = compose(rng, drawing, pools);
      cls = objectClass(c.label);
      rgb = c.rgb;
    }
    const mirror = rng.next() < 0.5;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const src = (y * size + (mirror ? size - 1 - x : x)) * 3;
        const dst = ((i * size + y) * size + x) * 3;
        for (let ch = 0; ch < 3; ch++) pixels[dst + ch] = (rgb[src + ch] as number) - (mean[ch] as number);
      }
    }
    labels[i * classes + (cls - 1)] = 1;
  }
  return { x: tf.tensor4d(pixels, [n, size, size, 3]), y: tf.tensor2d(labels, [n, classes]) };
}

async function main(): Promise<void> {
  const backend = await selectBackend({ backend: args.backend as BackendRequest });
  console.log(`backend: ${backend.name} (${backend.reason})`);

  const store = new nn.ParamStore('model', seed);
  const bn: nn.BatchNormPolicy = { affine: 'trainable', statistics: 'batch', momentum: 0.1, eps: 1e-5 };
  const backbone = new ResNetBackbone(store, { depth, baseWidth: width, bn });
  const headW = tf.variable(nn.normal([backbone.outChannels, classes], 0.01, seed + 1), true, 'pretrain/fc.weight');
  const headB = tf.variable(tf.zeros([classes]), true, 'pretrain/fc.bias');
  const trainable: Variable[] = [...store.parameterGroups({}).flatMap((g) => g.variables), headW, headB];
  // ImageNet ResNets start from He initialisation (torchvision: kaiming_normal_, fan_out); the
  // reference's N(0, 0.01) for its convs assumes pretrained weights will replace them.
  [...store.stateDict().values()].forEach((v, i) => {
    if (v.shape.length !== 4) return;
    const [kh, kw, , cout] = v.shape as [number, number, number, number];
    v.assign(nn.normal(v.shape, Math.sqrt(2 / (kh * kw * cout)), mixSeed(seed, 3, i)));
  });

  const pools = loadGlyphPools(800, 200);
  const logits = (x: Tensor4D, training: boolean) => tf.add(tf.matMul(tf.mean(backbone.apply(x, training), [1, 2]), headW), headB) as Tensor2D;

  // Adam (or SGD with momentum) with L2 weight decay and a cosine learning rate.
  const optimizer = args.optimizer === 'adam' ? tf.train.adam(baseLr) : tf.train.momentum(baseLr, MOMENTUM);
  const setLr = (lr: number) => Object.assign(optimizer, { learningRate: lr });
  const t0 = performance.now();
  const rng = new SeededRng(mixSeed(seed, 7));
  let smoothed = Number.NaN;
  for (let it = 0; it < iterations; it++) {
    const lr = 0.5 * baseLr * (1 + Math.cos((Math.PI * it) / iterations));
    setLr(lr);
    const { x, y } = makeBatch(rng, pools.train, batch);
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits(x, true)) as tf.Scalar, trainable);
      optimizer.applyGradients(trainable.map((v) => ({ name: v.name, tensor: tf.add(grads[v.name] as tf.Tensor, tf.mul(v, WEIGHT_DECAY)) })));
      return value;
    });
    const l = (await loss.data())[0] as number;
    loss.dispose();
    x.dispose();
    y.dispose();
    smoothed = Number.isNaN(smoothed) ? l : 0.98 * smoothed + 0.02 * l;
    if ((it + 1) % 100 === 0 || it === 0) {
      const s = (performance.now() - t0) / 1000;
      console.log(`it ${String(it + 1).padStart(5)}/${iterations}  loss ${smoothed.toFixed(3)}  lr ${lr.toFixed(4)}  ${((it + 1) / s).toFixed(2)} it/s`);
    }
  }

  // Accuracy on shapes the backbone never saw (mini-VOC's evaluation pool), with running statistics.
  const evalRng = new SeededRng(mixSeed(seed, 11));
  let correct = 0;
  for (let done = 0; done < evalImages; done += 100) {
    const n = Math.min(100, evalImages - done);
    // Unwarped, as the evaluation images are drawn, so accuracies compare across pretrainings.
    const { x, y } = makeBatch(evalRng, pools.val, n, { ...composeOptions, max_rotation: 0, max_shear: 0 });
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits(x, false), 1), tf.argMax(y, 1)), 'int32')));
    correct += (await hits.data())[0] as number;
    tf.dispose([hits, x, y]);
  }
  const accuracy = correct / evalImages;
  const seconds = (performance.now() - t0) / 1000;
  console.log(`held-out glyph accuracy: ${(accuracy * 100).toFixed(1)}% on ${evalImages} images of unseen shapes; ${seconds.toFixed(0)} s`);

  mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
  weights.saveSafetensors(path.resolve(args.out), store.stateDict(), {
    made_by: 'tools/pretrain-mini-backbone.ts',
    task: 'single-glyph classification on mini-VOC training shapes (20 classes)',
    depth: String(depth),
    base_width: String(width),
    iterations: String(iterations),
    batch: String(batch),
    size: String(size),
    lr: String(baseLr),
    seed: String(seed),
    heldout_accuracy: accuracy.toFixed(4),
    compose: JSON.stringify(composeOptions),
    backend: `${backend.name} ${backend.tfVersion ?? ''}`.trim(),
  });
  console.log(`wrote ${args.out} (${store.stateDict().size} tensors)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
