/** Loss building blocks with a fused path on tfjs-node. */
import { tf } from '../runtime/tf.js';
import type { Tensor } from '../runtime/tf.js';
import { nativeOps } from './native.js';

/**
 * Softmax cross-entropy per position: `logits` [..., C], `labels` int32 [...] with every value a
 * class index in [0, C) (map ignored positions to any valid class and mask them afterwards).
 * Returns −log softmax(logits)[label], shaped like `labels`. On tfjs-node it is one TensorFlow op
 * whose gradient comes with it; elsewhere −Σ logSoftmax · oneHot.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const c = logits.shape[logits.rank - 1]!;
  if (labels.rank !== logits.rank - 1 || labels.shape.some((d, i) => d !== logits.shape[i])) {
    throw new RangeError(`softmaxCrossEntropy: labels [${labels.shape}] do not match logits [${logits.shape}] without the class axis`);
  }
  const native = nativeOps();
  if (native) {
    const rows = labels.size;
    const ce = native.softmaxCrossEntropy(tf.reshape(logits, [rows, c]), tf.reshape(labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32'), [rows]));
    return tf.reshape(ce, labels.shape);
  }
  return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.cast(labels, 'int32'), c)), -1));
}
