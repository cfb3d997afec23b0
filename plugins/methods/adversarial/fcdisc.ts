/**
 * `fcdisc`: AdvSemiSeg's fully convolutional discriminator (Hung et al., BMVC 2018; the released model/discriminator.py): five 4×4 stride-2 convs with
 * padding 1 and bias, widths ndf, 2ndf, 4ndf, 8ndf, 1, LeakyReLU after the first four, no
 * normalisation, PyTorch-default init. The N×h×w×1 logit map is upsampled bilinearly
 * (align_corners=True) to the input size, as the reference's training script does.
 */
import { definePlugin, tf, nn } from '../../../src/index.js';
import type { ParameterGroup, Tensor4D, Variable } from '../../../src/index.js';
import type { Discriminator } from './discriminator.js';

export interface FcDiscOptions {
  ndf: number;
  num_classes: number;
  leaky_slope: number;
  lr_multiplier: number;
}

export class FcDiscriminator implements Discriminator {
  private readonly store: nn.ParamStore;
  private readonly convs: { w: Variable; b: Variable }[] = [];

  constructor(
    private readonly options: FcDiscOptions,
    slot: string,
    seed: number,
  ) {
    this.store = new nn.ParamStore(slot, seed);
    const widths = [options.num_classes, options.ndf, options.ndf * 2, options.ndf * 4, options.ndf * 8, 1];
    const names = ['conv1', 'conv2', 'conv3', 'conv4', 'classifier'];
    names.forEach((name, i) => {
      const cin = widths[i]!;
      const cout = widths[i + 1]!;
      const fanIn = cin * 16;
      const w = this.store.add(`${name}.weight`, nn.torchDefaultUniform([4, 4, cin, cout], fanIn, this.store.nextSeed()), { trainable: true, group: 'discriminator' });
      const b = this.store.add(`${name}.bias`, nn.torchDefaultUniform([cout], fanIn, this.store.nextSeed()), { trainable: true, group: 'discriminator' });
      this.convs.push({ w, b });
    });
  }

  /** The network's own (reduced-resolution) logits, N×⌊H/32⌋×⌊W/32⌋×1. */
  logits(x: Tensor4D): Tensor4D {
    let y = x;
    this.convs.forEach((c, i) => {
      y = nn.conv2d(y, c.w as Tensor4D, { stride: 2, padding: 1 }, c.b);
      if (i < this.convs.length - 1) y = nn.leakyRelu(y, this.options.leaky_slope);
    });
    return y;
  }

  apply(classProbabilities: Tensor4D, _opts: { training: boolean }): Tensor4D {
    return tf.tidy(() => {
      const [, h, w] = classProbabilities.shape;
      return nn.resizeBilinearAlignCorners(this.logits(classProbabilities), [h, w]);
    });
  }

  parameterGroups(): ParameterGroup[] {
    return this.store.parameterGroups({ discriminator: this.options.lr_multiplier });
  }

  stateDict(): Map<string, Variable> {
    return this.store.stateDict();
  }

  dispose(): void {
    this.store.dispose();
  }
}

export const fcdiscDiscriminator = definePlugin<'discriminator', FcDiscOptions>({
  kind: 'discriminator',
  type: 'fcdisc',
  description: "AdvSemiSeg's fully convolutional discriminator: five 4×4 stride-2 convs, LeakyReLU, output upsampled to the input size.",
  options: {
    type: 'object',
    properties: {
      ndf: { type: 'integer', minimum: 1, default: 64, description: 'Width of the first conv; then 2·ndf, 4·ndf, 8·ndf, 1.' },
      num_classes: { type: 'integer', minimum: 1, default: 21, description: 'Input channels: the class-probability (or one-hot) map.' },
      leaky_slope: { type: 'number', minimum: 0, default: 0.2, description: 'Negative slope of the LeakyReLU after the first four convs.' },
      lr_multiplier: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Learning-rate multiplier of the single `discriminator` parameter group.' },
    },
    additionalProperties: false,
  },
  create(options, ctx) {
    return new FcDiscriminator(options, ctx.slot, ctx.seed);
  },
});
