/**
 * `deeplabv2`: the segmentation network of Hung et al. (BMVC 2018): DeepLab-v2 on a dilated ResNet, as a
 * SegmentationModel. Logits come back at the input resolution: bilinear align_corners=True (what
 * the reference's training script does outside the network) or base-101's learnable transposed
 * convolutions. Parameter groups: `backbone` (1×), `classifier` (layer5, `classifier_lr_multiplier`×),
 * `upsampling` (transposed convs only, 1×).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { definePlugin, tf, nn, weights, AblateError } from '../../../src/index.js';
import type { ParameterGroup, SegmentationModel, Tensor4D, Variable } from '../../../src/index.js';
import { AtrousClassifier, DEPTHS, ResNetBackbone, TransposedUpsampler } from './resnet.js';

export interface DeepLabV2Options {
  depth: 18 | 34 | 50 | 101 | 152;
  base_width: number;
  num_classes: number;
  rates: number[];
  bn: Partial<nn.BatchNormPolicy>;
  upsampling: 'bilinear' | 'transposed';
  pretrained: string | null;
  pretrained_strip_prefix: string;
  classifier_lr_multiplier: number;
}

/** The classifier's parameter prefix (as in the original PyTorch model: `layer5.conv2d_list.*`). */
const HEAD = 'layer5';
/** Weights files whose usual load report (only the head missing) was already explained in this process. */
const explained = new Set<string>();

export class DeepLabV2 implements SegmentationModel {
  readonly numClasses: number;
  private readonly store: nn.ParamStore;
  private readonly backbone: ResNetBackbone;
  private readonly classifier: AtrousClassifier;
  private readonly upsampler: TransposedUpsampler | undefined;

  constructor(
    private readonly options: DeepLabV2Options & { bn: nn.BatchNormPolicy },
    slot: string,
    seed: number,
  ) {
    this.numClasses = options.num_classes;
    this.store = new nn.ParamStore(slot, seed);
    this.backbone = new ResNetBackbone(this.store, { depth: options.depth, baseWidth: options.base_width, bn: options.bn });
    this.classifier = new AtrousClassifier(this.store, this.backbone.outChannels, options.num_classes, options.rates);
    this.upsampler = options.upsampling === 'transposed' ? new TransposedUpsampler(this.store, options.num_classes) : undefined;
  }

  /** 1/8-resolution logits (what the reference network itself returns). */
  logits(images: Tensor4D, training: boolean): Tensor4D {
    return this.classifier.apply(this.backbone.apply(images, training));
  }

  apply(images: Tensor4D, opts: { training: boolean }): Tensor4D {
    return tf.tidy(() => {
      const [, h, w] = images.shape;
      const small = this.logits(images, opts.training);
      if (!this.upsampler) return nn.resizeBilinearAlignCorners(small, [h, w]);
      const up = this.upsampler.apply(small);
      const [, uh, uw] = up.shape;
      // 8·h'−7 equals the input size only for sizes ≡ 1 (mod 8), e.g. 321; otherwise crop the
      // bottom/right excess (as the ICLR 2018 reproduction's drop-last does) or resize when the output came out smaller.
      if (uh >= h && uw >= w) return uh === h && uw === w ? up : tf.slice(up, [0, 0, 0, 0], [-1, h, w, -1]);
      return nn.resizeBilinearAlignCorners(up, [h, w]);
    });
  }

  parameterGroups(): ParameterGroup[] {
    return this.store.parameterGroups({ backbone: 1, classifier: this.options.classifier_lr_multiplier, upsampling: 1 });
  }

  stateDict(): Map<string, Variable> {
    return this.store.stateDict();
  }

  dispose(): void {
    this.store.dispose();
  }
}

export const deeplabv2Model = definePlugin<'model', DeepLabV2Options>({
  kind: 'model',
  type: 'deeplabv2',
  description: 'DeepLab-v2: dilated ResNet (output stride 8) with a summed atrous classifier, as in AdvSemiSeg.',
  options: {
    type: 'object',
    properties: {
      depth: { enum: [18, 34, 50, 101, 152], default: 101, description: 'ResNet depth: 18/34 basic blocks, 50/101/152 Caffe-style bottlenecks (stride on the first 1×1).' },
      base_width: { type: 'integer', minimum: 1, default: 64, description: 'Channels of the stem; stage i has base_width·2^i planes (×4 for bottlenecks).' },
      num_classes: { type: 'integer', minimum: 1, default: 21, description: 'Output classes (VOC: 21 including background).' },
      rates: {
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        minItems: 1,
        default: [6, 12, 18, 24],
        description: 'Dilation rates of the summed classifier branches. [6, 12] reproduces the released code (its ASPP loop returns after two branches).',
      },
      bn: {
        type: 'object',
        description: 'Batch-norm policy. The reference: affine frozen, statistics from the batch (train mode).',
        properties: {
          affine: { enum: ['trainable', 'frozen'], default: 'frozen', description: 'Whether BN weight/bias are trained.' },
          statistics: { enum: ['batch', 'frozen'], default: 'batch', description: 'batch: normalise with batch moments and update running stats; frozen: always use running stats.' },
          momentum: { type: 'number', minimum: 0, maximum: 1, default: 0.1, description: 'Running-stat momentum (PyTorch convention).' },
          eps: { type: 'number', exclusiveMinimum: 0, default: 1e-5, description: 'Added to the variance.' },
        },
        additionalProperties: false,
        default: {},
      },
      upsampling: {
        enum: ['bilinear', 'transposed'],
        default: 'bilinear',
        description: "bilinear: align_corners=True resize of the 1/8 logits (the reference's interp); transposed: base-101's three learnable transposed convs.",
      },
      pretrained: { type: ['string', 'null'], format: 'path', default: null, description: 'Safetensors file with PyTorch state-dict names (tools/pth_to_safetensors.py converts a .pth); relative to the config file that sets it.' },
      pretrained_strip_prefix: { type: 'string', default: '', description: 'Prefix removed from every name in the file (e.g. "Scale.").' },
      classifier_lr_multiplier: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Learning-rate multiplier of the classifier (layer5) group.' },
    },
    additionalProperties: false,
  },
  create(options, ctx) {
    if (!DEPTHS[options.depth]) throw new AblateError('config.invalid', `model.depth ${options.depth} is not one of 18, 34, 50, 101, 152`, { where: { key: `${ctx.slot}.depth` } });
    // Defaults inside a nested object are applied by the schema; fill them here too for direct use.
    const bn: nn.BatchNormPolicy = { affine: 'frozen', statistics: 'batch', momentum: 0.1, eps: 1e-5, ...options.bn };
    const model = new DeepLabV2({ ...options, bn }, ctx.slot, ctx.seed);
    if (options.pretrained) {
      const file = path.resolve(ctx.baseDir, options.pretrained);
      if (!existsSync(file)) {
        model.dispose();
        // Located at the option, so the error's hint can say which config file wrote the path.
        throw new AblateError('weights.missing-file', `${ctx.slot}.pretrained: weights file ${file} does not exist`, {
          where: { key: `${ctx.slot}.pretrained` },
          hint: 'A relative path is relative to the config file that sets it; tools/pth_to_safetensors.py converts a .pth.',
        });
      }
      try {
        const report = weights.loadSafetensorsInto(model.stateDict(), file, options.pretrained_strip_prefix ? { stripPrefix: options.pretrained_strip_prefix } : {});
        weights.assertSomethingLoaded(report, file, `${ctx.slot}.pretrained`);
        const onlyHeadMissing = report.missing.length > 0 && report.missing.every((n) => n.startsWith(`${HEAD}.`)) && !report.mismatched.length && !report.unexpected.length;
        if (onlyHeadMissing) {
          // The usual case (a backbone checkpoint): say once per process what it means, not per sweep cell.
          const said = explained.has(file);
          explained.add(file);
          (said ? ctx.log.debug : ctx.log.info)(
            `${ctx.slot}.pretrained: ${report.loaded.length} tensors from ${path.relative(process.cwd(), file)}; the classifier head (${HEAD}, ${report.missing.length} tensors) is not in it and starts from its initialisation, as expected for a backbone checkpoint`,
          );
        } else {
          ctx.log.info(weights.formatLoadReport(report, file));
          if (report.mismatched.length || report.missing.length) ctx.log.warn(`${ctx.slot}.pretrained: ${report.missing.length} missing, ${report.mismatched.length} shape-mismatched tensors kept their initial values`);
        }
      } catch (e) {
        model.dispose();
        throw e;
      }
    }
    return model;
  },
});
