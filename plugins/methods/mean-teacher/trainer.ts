/**
 * Mean teacher with mixed-sample consistency (French et al., BMVC 2020, CutMix; Olsson et al.,
 * WACV 2021, ClassMix). One iteration, as one compiled step:
 *   1. the teacher predicts the unlabeled batch (training mode, as both released scripts run it:
 *      Britefury/cutmix-semisup-seg train_seg_semisup_mask_mt.py:269-270, WilhelmT/ClassMix
 *      trainSSL.py:265), with no gradient;
 *   2. the mix-mask generator turns this iteration's draws (made in JavaScript from the run's
 *      generator and fed in) and the teacher's prediction into masks M; mixed image i is
 *      M·x_i + (1−M)·x_{(i+1) mod N}, and so are the teacher's probabilities (ClassMix
 *      transformsgpu.py:58; CutMix mixes two loaders' batches, train_seg_semisup_mask_mt.py:350-363);
 *   3. the student's loss: `losses.seg` on the labeled batch plus `losses.consistency` of the
 *      student's prediction on the mixed images against the mixed teacher probabilities, one
 *      gradient, one optimizer step;
 *   4. the teacher becomes the EMA of the student: t ← α·t + (1−α)·s for every float tensor of
 *      the state dict (optim_weight_ema.py:21-25) or, as ClassMix, for the parameters only
 *      (trainSSL.py:123-124), α optionally ramped as ClassMix does (trainSSL.py:118,
 *      α = min(1 − 1/(i+1), decay)).
 * The teacher is a second instance of the configured `model` (BuildContext.buildAgain), initialised
 * to the student's weights (optim_weight_ema.py:12-13; ClassMix trainSSL.py:104-106), owned by the
 * trainer (`networks()`: checkpointed and restored with the run, `evaluation.network: teacher`).
 */
import { tf, defineStep, type BuildContext, type Network, type StepContext, type StepResult, type Tensor, type Tensor4D, type Trainer, type Variable } from '../../../src/index.js';
import { imagesOf, labelsOf, lossOrDefault, Streams, trainableVariables } from '../common.js';
import type { MixMaskGenerator } from './mix-mask.js';

export interface MeanTeacherOptions {
  iterations: number;
  batch_size: number;
  ema_decay: number;
  ema_warmup: boolean;
  ema_buffers: boolean;
}

/** The name of the trainer's teacher network (`evaluation.network: teacher`). */
export const TEACHER = 'teacher';

/** α of iteration `it` (0-based): the decay, or the true average while that is smaller. */
export function emaAlpha(o: Pick<MeanTeacherOptions, 'ema_decay' | 'ema_warmup'>, it: number): number {
  return o.ema_warmup ? Math.min(1 - 1 / (it + 1), o.ema_decay) : o.ema_decay;
}

/**
 * t ← α·t + (1−α)·s for every float32 tensor the two state dicts share (inside a step: no
 * read-back); with `buffers` false, for trainable variables only, so the teacher's batch-norm
 * statistics stay its own (they follow its forward passes in training mode).
 */
export function emaUpdate(teacher: Network, student: Network, alpha: Tensor, oneMinusAlpha: Tensor, buffers = true): void {
  const s = student.stateDict();
  for (const [name, t] of teacher.stateDict()) {
    const v = s.get(name);
    if (!v || t.dtype !== 'float32' || (!buffers && !t.trainable)) continue;
    tf.tidy(() => t.assign(t.mul(alpha).add(v.mul(oneMinusAlpha))));
  }
}

/** Image i's partner (i + 1) mod N along the batch axis. */
function partners(t: Tensor): Tensor {
  const n = t.shape[0]!;
  return n === 1 ? t : tf.concat([t.slice(1, n - 1), t.slice(0, 1)]);
}

export async function createMeanTeacherTrainer(o: MeanTeacherOptions, ctx: BuildContext): Promise<Trainer> {
  const model = await ctx.get('model', 'model');
  const optimizer = await ctx.get('optimizer', 'optimizer');
  const dataset = await ctx.get('dataset', 'dataset');
  const mixMask: MixMaskGenerator = await ctx.get('mix_mask', 'mix_mask');
  const segLoss = await lossOrDefault(ctx, 'seg', { type: 'ce2d', ignore_index: dataset.ignoreIndex });
  const consLoss = await lossOrDefault(ctx, 'consistency', { type: 'pseudo_label_ce' });
  const teacher = await ctx.buildAgain('model', 'model', `trainer/${TEACHER}`);
  copyWeights(teacher, model);

  const streams = new Streams(dataset, { batchSize: o.batch_size, seed: ctx.seed });
  const labeled = streams.open('labeled', { subset: 'labeled' });
  const unlabeled = streams.open('unlabeled', { subset: 'unlabeled' });
  const vars = trainableVariables(model);

  // Inputs: labeled images and labels, unlabeled images, iteration, α, 1−α, then the mask draws.
  const step = defineStep(ctx, (inputs) => {
    const [xl, yl, xu, iteration, alpha, oneMinusAlpha, ...draws] = inputs as [Tensor4D, Tensor, Tensor4D, Tensor, Tensor, Tensor, ...Tensor[]];
    const teacherLogits = tf.keep(teacher.apply(xu, { training: true }));
    const out: Record<string, Tensor> = {};
    try {
      const m = mixMask.masks(draws, teacherLogits).expandDims(-1); // N×H×W×1
      const mix = (t: Tensor) => m.mul(t).add(tf.sub(1, m).mul(partners(t)));
      const xm = mix(xu) as Tensor4D;
      const teacherProbs = mix(tf.softmax(teacherLogits));
      out.mask_ratio = tf.keep(m.mean());
      const { grads } = tf.variableGrads(() => {
        const seg = segLoss.compute({ logits: model.apply(xl, { training: true }), labels: yl }).loss;
        const cons = consLoss.compute({ logits: model.apply(xm, { training: true }), teacherProbs, iteration });
        out.loss_seg = tf.keep(seg);
        out.loss_cons = tf.keep(cons.loss);
        const ratio = cons.stats?.conf_ratio;
        if (ratio instanceof tf.Tensor) out.conf_ratio = tf.keep(ratio);
        return seg.add(cons.loss) as tf.Scalar;
      }, vars);
      optimizer.applyGradients(grads);
      emaUpdate(teacher, model, alpha, oneMinusAlpha, o.ema_buffers);
    } catch (e) {
      tf.dispose(Object.values(out));
      throw e;
    } finally {
      teacherLogits.dispose();
    }
    return out;
  });

  return {
    iterations: o.iterations,
    async step(it: number, stepCtx: StepContext): Promise<StepResult> {
      const l = await labeled.next();
      const u = await unlabeled.next();
      const [n, height, width] = u.shape;
      // Drawn here, once per iteration, from the run's checkpointed generator (docs/engine.md).
      const draws = mixMask.draw(stepCtx.rng, { n, height, width, numClasses: model.numClasses });
      const a = emaAlpha(o, it);
      const inputs = [imagesOf(l), labelsOf(l, 'labeled stream'), imagesOf(u), tf.scalar(it), tf.scalar(a), tf.scalar(1 - a), ...draws];
      const scalars = step.run(inputs, 'mean-teacher');
      return { scalars: { loss_seg: scalars.loss_seg!, loss_cons: scalars.loss_cons!, ...scalars, ema_alpha: a } };
    },
    networks: () => new Map([[TEACHER, teacher]]),
    getState: () => streams.getState(),
    setState: (s) => streams.setState(s),
    // The teacher was built by the experiment's container, which releases it with the model.
    close: () => {
      step.dispose();
      streams.close();
    },
  };
}

/**
 * Teacher ← student, tensor by tensor (the teacher starts as a copy), into buffers of its own:
 * `assign(v)` would make both variables share one tensor, and a compiled step captured while they
 * do would feed one variable's value for the other's.
 */
function copyWeights(to: Network, from: Network): void {
  const src = from.stateDict();
  for (const [name, t] of to.stateDict()) {
    const v: Variable | undefined = src.get(name);
    if (v) t.assign(tf.tensor(v.dataSync(), v.shape, v.dtype));
  }
}
