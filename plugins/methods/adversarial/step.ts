/**
 * One iteration of adversarial (semi-supervised) segmentation training in the exact order of the
 * released code of Hung et al., "Adversarial Learning for Semi-Supervised Semantic Segmentation"
 * (BMVC 2018), train.py:
 *   1. D frozen (G's losses differentiate G's variables only);
 *   2. unlabeled branch: λ_semi_adv·BCE(D(softmax(G(x_u))), 1), plus λ_semi·CE against confident
 *      argmax pseudo-labels from `semi_start`; skipped entirely when no pixel is confident;
 *   3. labeled branch: CE(G(x_l), y) + λ_adv·BCE(D(softmax(G(x_l))), 1, ignore y = void);
 *   4–6. D on fake (detached labeled, and unlabeled when `d_remain`, predictions; target 0) / 2 and on
 *      real one-hot ground truth from an independent labeled stream (target 1) / 2;
 *   7. G's step, then D's step, each from this iteration's summed gradients.
 * Models return logits at input resolution and the discriminator upsamples its map, so the losses see
 * full-resolution maps as in the reference.
 */
import {
  tf,
  defineStep,
  type BuildContext,
  type Loss,
  type NamedTensorMap,
  type Optimizer,
  type SegmentationModel,
  type StepResult,
  type Tensor,
  type Tensor4D,
  type Trainer,
} from '../../../src/index.js';
import type { Discriminator } from './discriminator.js';
import { imagesOf, labelsOf, lossOrDefault, oneHotLabels, Streams, sumGrads, trainableVariables } from '../common.js';

export interface AdversarialOptions {
  iterations: number;
  batch_size: number;
  lambda_adv: number;
  lambda_semi_adv: number;
  lambda_semi: number;
  t_semi: number;
  semi_start: number;
  semi_start_adv: number;
  d_remain: boolean;
  skip_empty_semi: boolean;
}

export async function createAdversarialTrainer(o: AdversarialOptions, ctx: BuildContext): Promise<Trainer> {
  const model = await ctx.get('model', 'model');
  const disc = await ctx.get('discriminator', 'discriminator');
  const optG = await ctx.get('optimizer', 'optimizer');
  const optD = await ctx.get('discriminator_optimizer', 'optimizer');
  const dataset = await ctx.get('dataset', 'dataset');
  const segLoss = await lossOrDefault(ctx, 'seg', { type: 'ce2d', ignore_index: dataset.ignoreIndex });
  const advLoss = await lossOrDefault(ctx, 'adv', { type: 'bce_adv', real_label_smoothing: 0 });
  const unlabeledActive = o.lambda_semi > 0 || o.lambda_semi_adv > 0;
  const semiLoss = unlabeledActive ? await lossOrDefault(ctx, 'semi', { type: 'semi_masked_ce', threshold: o.t_semi }) : undefined;

  // Three independent streams, as the reference's three loaders: labeled batches for G, unlabeled
  // ones (when a λ needs them), and labeled ones whose label maps are the discriminator's real input.
  const streams = new Streams(dataset, { batchSize: o.batch_size, seed: ctx.seed });
  const labeledStream = streams.open('labeled', { subset: 'labeled' });
  const realStream = streams.open('groundTruth', { subset: 'labeled', unpadded: true });
  const unlabeledStream = unlabeledActive ? streams.open('unlabeled', { subset: 'unlabeled' }) : undefined;

  const iteration = new AdversarialIteration(o, { model, disc, optG, optD, segLoss, advLoss, semiLoss, ignoreIndex: dataset.ignoreIndex });
  // A pure tensor program of the batches and the variables (networks, optimizer state) that reads
  // nothing back, so it compiles to one TensorFlow graph per iteration (src/runtime, defineStep).
  const step = defineStep(ctx, (inputs) => iteration.tensors(inputs));
  return {
    iterations: o.iterations,
    async step(it: number): Promise<StepResult> {
      const withUnlabeled = !!semiLoss && it >= o.semi_start_adv;
      const unlabeled = withUnlabeled ? await unlabeledStream!.next() : undefined;
      const labeled = await labeledStream.next();
      const real = await realStream.next();
      // Which branches run is JavaScript control flow that changes at semi_start_adv / semi_start:
      // it is the compiled program's key.
      iteration.branches = { unlabeled: withUnlabeled, semi: withUnlabeled && o.lambda_semi > 0 && it >= o.semi_start };
      const inputs = [imagesOf(labeled), labelsOf(labeled, 'labeled stream'), labelsOf(real, 'ground-truth stream'), ...(unlabeled ? [imagesOf(unlabeled)] : [])];
      const key = `${withUnlabeled ? 'unlabeled' : 'labeled'}${iteration.branches.semi ? '+semi' : ''}`;
      return { scalars: inDisplayOrder(withReferenceConventions(step.run(inputs, key))) };
    },
    getState: () => streams.getState(),
    setState: (s) => streams.setState(s),
    close: () => {
      step.dispose();
      streams.close();
    },
  };
}

/** The order scalars are reported in (progress bars show the first few): G's losses, then D's. */
const DISPLAY_ORDER = ['loss_seg', 'loss_adv', 'loss_semi', 'semi_ratio', 'loss_semi_adv', 'semi_skipped', 'loss_d', 'loss_d_fake', 'loss_d_real'];

function inDisplayOrder(scalars: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of DISPLAY_ORDER) if (k in scalars) out[k] = scalars[k]!;
  return { ...out, ...scalars };
}

interface Parts {
  model: SegmentationModel;
  disc: Discriminator;
  optG: Optimizer;
  optD: Optimizer;
  segLoss: Loss;
  advLoss: Loss;
  semiLoss: Loss | undefined;
  ignoreIndex: number;
}

/**
 * The tensor work of one iteration, separate from data fetching: the function `defineStep` runs
 * (and compiles) on the iteration's batches. `branches` is set by the trainer before each run.
 */
export class AdversarialIteration {
  /** The branches of the iteration being run (the compiled program's key). */
  branches = { unlabeled: false, semi: false };

  constructor(
    private readonly o: AdversarialOptions,
    private readonly p: Parts,
  ) {}

  tensors(inputs: readonly Tensor[]): Record<string, Tensor> {
    const { o, p } = this;
    const [xl, yl, yReal, xu] = inputs as [Tensor4D, Tensor, Tensor, Tensor4D | undefined];
    const scalars: Record<string, Tensor> = {};
    const kept: Tensor[] = [];
    // Detached copies of predictions that outlive the gradient tape (the D fake pass needs them).
    // A clone is never saved by a backward op, so the tape's cleanup does not free it.
    const detach = (t: Tensor) => {
      const c = tf.keep(t.clone());
      kept.push(c);
      return c;
    };
    // Scalars to report: kept past the tapes and tidy scopes, returned as the step's outputs.
    const report = (name: string, t: Tensor) => (scalars[name] = tf.keep(t));
    const ignoreIndex = p.ignoreIndex;
    const gVars = trainableVariables(p.model);
    const dVars = trainableVariables(p.disc);
    try {
      const gGrads: NamedTensorMap[] = [];
      let predRemain: Tensor | undefined;

      // 2. unlabeled branch (runs first, as in the reference)
      if (this.branches.unlabeled && xu && p.semiLoss) {
        const semiLoss = p.semiLoss;
        const { grads } = tf.variableGrads(() => {
          const pred = p.model.apply(xu, { training: true });
          predRemain = detach(pred);
          const dOut = p.disc.apply(tf.softmax(pred), { training: true });
          const semiAdv = p.advLoss.compute({ discriminatorLogits: dOut, target: 1 }).loss;
          report('loss_semi_adv', semiAdv);
          let total = semiAdv.mul(o.lambda_semi_adv);
          if (this.branches.semi) {
            const semi = semiLoss.compute({ logits: pred, discriminatorLogits: dOut, threshold: o.t_semi });
            const ratio = semi.stats?.semi_ratio;
            report('semi_ratio', ratio instanceof tf.Tensor ? ratio : tf.scalar(ratio ?? Number.NaN));
            report('loss_semi', semi.loss);
            total = total.add(semi.loss.mul(o.lambda_semi));
            if (o.skip_empty_semi) {
              // Reference: with semi_ratio == 0 nothing is backpropagated for the unlabeled batch,
              // not even the adversarial term. Multiplying by the 0/1 signal zeroes exactly that
              // gradient (the tape stays connected) without reading the ratio back.
              const signal = semi.signal ?? tf.scalar(semi.hasSignal === false ? 0 : 1);
              report('semi_skipped', tf.sub(1, signal));
              total = total.mul(signal);
            }
          }
          return total as tf.Scalar;
        }, gVars);
        gGrads.push(grads);
      }

      // 3. labeled branch
      const ignoreL = yl.equal(ignoreIndex);
      let predL: Tensor | undefined;
      const { grads: labeledGrads } = tf.variableGrads(() => {
        const pred = p.model.apply(xl, { training: true });
        predL = detach(pred);
        const ce = p.segLoss.compute({ logits: pred, labels: yl }).loss;
        report('loss_seg', ce);
        if (o.lambda_adv === 0) return ce;
        const dOut = p.disc.apply(tf.softmax(pred), { training: true });
        const adv = p.advLoss.compute({ discriminatorLogits: dOut, target: 1, ignoreMask: ignoreL }).loss;
        report('loss_adv', adv);
        return ce.add(adv.mul(o.lambda_adv)) as tf.Scalar;
      }, gVars);
      gGrads.push(labeledGrads);

      // 5. D on fake: detached predictions (labeled, plus unlabeled when d_remain)
      const fakeLogits = o.d_remain && predRemain ? tf.concat([predL!, predRemain]) : predL!;
      const fakeIgnore = o.d_remain && predRemain ? tf.concat([ignoreL, tf.zeros(predRemain.shape.slice(0, 3), 'bool')]) : ignoreL;
      const fakeProbs = tf.softmax(fakeLogits);
      const { grads: fakeGrads } = tf.variableGrads(() => {
        const loss = p.advLoss.compute({ discriminatorLogits: p.disc.apply(fakeProbs as tf.Tensor4D, { training: true }), target: 0, ignoreMask: fakeIgnore }).loss.div(2) as tf.Scalar;
        report('loss_d_fake', loss);
        return loss;
      }, dVars);

      // 6. D on real: one-hot ground truth of an independent labeled batch, void pixels ignored
      const realMaps = oneHotLabels(yReal, p.model.numClasses, ignoreIndex);
      const { grads: realGrads } = tf.variableGrads(() => {
        const loss = p.advLoss.compute({ discriminatorLogits: p.disc.apply(realMaps, { training: true }), target: 1, ignoreMask: yReal.equal(ignoreIndex) }).loss.div(2) as tf.Scalar;
        report('loss_d_real', loss);
        return loss;
      }, dVars);

      // 7. both updates from this iteration's gradients
      p.optG.applyGradients(sumGrads(gGrads));
      p.optD.applyGradients(sumGrads([fakeGrads, realGrads]));
    } catch (e) {
      tf.dispose(Object.values(scalars));
      throw e;
    } finally {
      tf.dispose(kept);
    }
    return scalars;
  }
}

/** The step's scalars with the reference's logging conventions applied. */
function withReferenceConventions(scalars: Record<string, number>): Record<string, number> {
  // A skipped self-training term is not reported as a loss (the reference computes none).
  if (scalars.semi_skipped === 1) delete scalars.loss_semi;
  if (scalars.loss_d_fake !== undefined && scalars.loss_d_real !== undefined) scalars.loss_d = scalars.loss_d_fake + scalars.loss_d_real;
  return scalars;
}
