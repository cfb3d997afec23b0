/**
 * Tensor helpers shared by the loss plugins. Every loss averages over the pixels it keeps and
 * returns 0 (with `hasSignal: false`) when it keeps none, like the reference `CrossEntropy2d`.
 */
import { tf, nn, AblateError, type Tensor, type LossInputs } from '../../src/index.js';

/** A required tensor input, or a clear error naming the loss and the missing input. */
export function tensorInput(inputs: LossInputs, name: string, loss: string): Tensor {
  const value = inputs[name];
  if (!(value instanceof tf.Tensor)) {
    throw new AblateError('loss.missing-input', `loss '${loss}' needs a tensor input '${name}', got ${value === undefined ? 'nothing' : typeof value}`, {
      hint: 'This is a trainer/loss mismatch: check that the trainer is meant to be used with this loss type.',
    });
  }
  return value;
}

/** An optional numeric input with a fallback. */
export function numberInput(inputs: LossInputs, name: string, fallback: number): number {
  const value = inputs[name];
  return typeof value === 'number' ? value : fallback;
}

/** Drops a trailing channel axis of size 1, so N×H×W×1 discriminator maps line up with N×H×W masks. */
export function squeezeChannel(t: Tensor): Tensor {
  return t.rank === 4 && t.shape[3] === 1 ? t.reshape(t.shape.slice(0, 3)) : t;
}

/**
 * Mean of `values` over the pixels where `keep` is 1, 0 when nothing is kept. `keep` is a float
 * 0/1 tensor of the same shape; it carries no gradient.
 */
export function maskedMean(values: Tensor, keep: Tensor): { mean: tf.Scalar; count: tf.Scalar } {
  const count = keep.sum() as tf.Scalar;
  const total = values.mul(keep).sum();
  // max(count, 1): with nothing kept the numerator is 0 too, so the mean is 0 and finite.
  const mean = total.div(tf.maximum(count, 1)) as tf.Scalar;
  return { mean, count };
}

/**
 * Per-pixel cross-entropy of N×H×W×C logits against N×H×W int labels, and the 0/1 mask of pixels
 * that count: labels in [0, C) other than `ignoreIndex` (the reference keeps `0 <= t != 255`).
 */
export function pixelCrossEntropy(logits: Tensor, labels: Tensor, ignoreIndex: number): { ce: Tensor; keep: Tensor } {
  const numClasses = logits.shape[logits.rank - 1]!;
  const intLabels = labels.dtype === 'int32' ? labels : labels.toInt();
  const valid = tf.logicalAnd(tf.logicalAnd(intLabels.greaterEqual(0), intLabels.less(numClasses)), intLabels.notEqual(ignoreIndex));
  // Ignored pixels get class 0 here and weight 0 in the mean (`keep`), so they add nothing, not
  // even gradient.
  const safe = tf.where(valid, intLabels, tf.zerosLike(intLabels));
  return { ce: nn.softmaxCrossEntropy(logits, safe), keep: valid.toFloat() };
}

/**
 * BCE with logits, softplus(x) − x·t (= max(x, 0) − x·t + log(1 + e^−|x|)). Written with softplus
 * so autodiff gives exactly σ(x) − t (the max/abs form gives −t at x = 0).
 */
export function bceWithLogits(logits: Tensor, target: number): Tensor {
  return tf.softplus(logits).sub(logits.mul(target));
}
