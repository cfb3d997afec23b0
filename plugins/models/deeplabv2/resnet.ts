/**
 * DeepLab-v2's ResNet backbone and classifier, as `model/deeplab.py` of the released AdvSemiSeg
 * code (Hung et al., BMVC 2018) builds them: Caffe-style bottleneck with the stride on the first 1×1 conv, output stride 8
 * (layer3 dilation 2, layer4 dilation 4, both stride 1), a 3×3/2 ceil-mode max-pool in the stem,
 * projection shortcuts on every stage's first block, and a classifier that SUMS dilated 3×3
 * branches. Depths 18/34 use basic blocks (not in the reference code): both 3×3 convs take the
 * stage dilation, the stride sits on the first 3×3.
 * State-dict names match the released PyTorch model (`layer3.4.conv2.weight`, `layer5.conv2d_list.1.bias`).
 */
import { tf, nn } from '../../../src/index.js';
import type { Tensor4D, Variable } from '../../../src/index.js';

type BatchNormPolicy = nn.BatchNormPolicy;

export type BlockKind = 'basic' | 'bottleneck';

export const DEPTHS: Record<number, { block: BlockKind; layers: [number, number, number, number] }> = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
};

/** Per stage: stride and dilation of the 3×3 convs (output stride 8, as DeepLab-v2). */
const STAGES: readonly { stride: number; dilation: number }[] = [
  { stride: 1, dilation: 1 },
  { stride: 2, dilation: 1 },
  { stride: 1, dilation: 2 },
  { stride: 1, dilation: 4 },
];

/** A conv weight (HWIO) initialised N(0, 0.01) as DeepLab's ResNet.__init__ does. */
function convWeight(store: nn.ParamStore, name: string, k: number, cin: number, cout: number, group: string): Variable {
  return store.add(`${name}.weight`, nn.normal([k, k, cin, cout], 0.01, store.nextSeed()), { trainable: true, group });
}

interface ConvBn {
  w: Variable;
  bn: nn.BatchNorm2d;
  spec: nn.ConvSpec;
}

class Block {
  private readonly convs: ConvBn[];
  private readonly downsample: ConvBn | undefined;

  constructor(store: nn.ParamStore, prefix: string, kind: BlockKind, inplanes: number, planes: number, stride: number, dilation: number, withDownsample: boolean, bn: BatchNormPolicy) {
    const g = 'backbone';
    const mk = (name: string, k: number, cin: number, cout: number, spec: nn.ConvSpec): ConvBn => ({
      w: convWeight(store, `${prefix}.conv${name}`, k, cin, cout, g),
      bn: new nn.BatchNorm2d(store, `${prefix}.bn${name}`, cout, bn, g),
      spec,
    });
    if (kind === 'bottleneck') {
      this.convs = [
        mk('1', 1, inplanes, planes, { stride }),
        mk('2', 3, planes, planes, { padding: dilation, dilation }),
        mk('3', 1, planes, planes * 4, {}),
      ];
    } else {
      this.convs = [mk('1', 3, inplanes, planes, { stride, padding: dilation, dilation }), mk('2', 3, planes, planes, { padding: dilation, dilation })];
    }
    const out = kind === 'bottleneck' ? planes * 4 : planes;
    this.downsample = withDownsample
      ? { w: convWeight(store, `${prefix}.downsample.0`, 1, inplanes, out, g), bn: new nn.BatchNorm2d(store, `${prefix}.downsample.1`, out, bn, g), spec: { stride } }
      : undefined;
  }

  apply(x: Tensor4D, training: boolean): Tensor4D {
    let y = x;
    this.convs.forEach((c, i) => {
      y = c.bn.apply(nn.conv2d(y, c.w as Tensor4D, c.spec), training);
      if (i < this.convs.length - 1) y = nn.relu(y);
    });
    const identity = this.downsample ? this.downsample.bn.apply(nn.conv2d(x, this.downsample.w as Tensor4D, this.downsample.spec), training) : x;
    return nn.relu(tf.add(y, identity) as Tensor4D);
  }
}

export interface BackboneConfig {
  depth: number;
  baseWidth: number;
  bn: BatchNormPolicy;
}

/** conv1 → bn1 → relu → maxpool(ceil) → layer1..4; returns 1/8-resolution features. */
export class ResNetBackbone {
  readonly outChannels: number;
  private readonly conv1: Variable;
  private readonly bn1: nn.BatchNorm2d;
  private readonly layers: Block[][] = [];

  constructor(store: nn.ParamStore, cfg: BackboneConfig) {
    const spec = DEPTHS[cfg.depth];
    if (!spec) throw new Error(`deeplabv2: unsupported depth ${cfg.depth}`);
    const w = cfg.baseWidth;
    this.conv1 = convWeight(store, 'conv1', 7, 3, w, 'backbone');
    this.bn1 = new nn.BatchNorm2d(store, 'bn1', w, cfg.bn, 'backbone');
    const expansion = spec.block === 'bottleneck' ? 4 : 1;
    let inplanes = w;
    spec.layers.forEach((count, s) => {
      const planes = w * 2 ** s;
      const { stride, dilation } = STAGES[s]!;
      const blocks: Block[] = [];
      for (let b = 0; b < count; b++) {
        // The reference's condition also fires for dilation 2/4, so layer3/4 always project.
        const down = b === 0 && (stride !== 1 || inplanes !== planes * expansion || dilation > 1);
        blocks.push(new Block(store, `layer${s + 1}.${b}`, spec.block, inplanes, planes, b === 0 ? stride : 1, dilation, down, cfg.bn));
        inplanes = planes * expansion;
      }
      this.layers.push(blocks);
    });
    this.outChannels = inplanes;
  }

  apply(x: Tensor4D, training: boolean): Tensor4D {
    let y = nn.relu(this.bn1.apply(nn.conv2d(x, this.conv1 as Tensor4D, { stride: 2, padding: 3 }), training));
    y = nn.maxPool2d(y, { kernel: 3, stride: 2, padding: 1, ceilMode: true });
    for (const stage of this.layers) for (const block of stage) y = block.apply(y, training);
    return y;
  }
}

/** `layer5`: Σ_r conv3×3(dilation r, padding r, bias), N(0, 0.01) weights, PyTorch-default biases. */
export class AtrousClassifier {
  private readonly branches: { w: Variable; b: Variable; rate: number }[] = [];

  constructor(store: nn.ParamStore, inChannels: number, numClasses: number, rates: readonly number[]) {
    rates.forEach((rate, i) => {
      const name = `layer5.conv2d_list.${i}`;
      const w = store.add(`${name}.weight`, nn.normal([3, 3, inChannels, numClasses], 0.01, store.nextSeed()), { trainable: true, group: 'classifier' });
      const b = store.add(`${name}.bias`, nn.torchDefaultUniform([numClasses], inChannels * 9, store.nextSeed()), { trainable: true, group: 'classifier' });
      this.branches.push({ w, b, rate });
    });
  }

  apply(x: Tensor4D): Tensor4D {
    const outs = this.branches.map((br) => nn.conv2d(x, br.w as Tensor4D, { padding: br.rate, dilation: br.rate }, br.b));
    return outs.length === 1 ? outs[0]! : (tf.addN(outs) as Tensor4D);
  }
}

/**
 * base-101's learnable upsampling (the ICLR 2018 reproduction's; README, "base-101 → base-104"): three ConvTranspose2d(C→C, bias) with
 * (kernel, stride, padding) = (1,2,0), (7,2,3), (7,2,3): 41 → 81 → 161 → 321, PyTorch-default init.
 */
export class TransposedUpsampler {
  private static readonly SPECS = [
    { k: 1, stride: 2, padding: 0 },
    { k: 7, stride: 2, padding: 3 },
    { k: 7, stride: 2, padding: 3 },
  ];
  private readonly layers: { w: Variable; b: Variable; stride: number; padding: number }[] = [];

  constructor(store: nn.ParamStore, channels: number) {
    TransposedUpsampler.SPECS.forEach((s, i) => {
      // PyTorch computes a transposed conv's fan-in from weight.size(1) = out channels.
      const fanIn = channels * s.k * s.k;
      const w = store.add(`upsample.${i}.weight`, nn.torchDefaultUniform([s.k, s.k, channels, channels], fanIn, store.nextSeed()), { trainable: true, group: 'upsampling' });
      const b = store.add(`upsample.${i}.bias`, nn.torchDefaultUniform([channels], fanIn, store.nextSeed()), { trainable: true, group: 'upsampling' });
      this.layers.push({ w, b, stride: s.stride, padding: s.padding });
    });
  }

  apply(x: Tensor4D): Tensor4D {
    let y = x;
    for (const l of this.layers) y = nn.convTranspose2d(y, l.w as Tensor4D, { stride: l.stride, padding: l.padding }, l.b);
    return y;
  }
}
