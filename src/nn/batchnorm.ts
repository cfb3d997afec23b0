/**
 * 2-D batch normalisation with two independent policies (a PyTorch model fine-tuned with frozen BN
 * layers, as much segmentation code does, needs both):
 *   affine:     trainable | frozen   (frozen = PyTorch requires_grad=False on weight and bias)
 *   statistics: batch | frozen       (batch = train-mode BN: normalise with the batch's moments
 *                                     and update the running ones; frozen = always use running)
 * Evaluation (`training: false`) always uses the running statistics, as `model.eval()` does.
 * State-dict names follow PyTorch: `<name>.weight`, `.bias`, `.running_mean`, `.running_var`.
 */
import { tf } from '../runtime/tf.js';
import type { Tensor, Tensor4D, Variable } from '../runtime/tf.js';
import type { ParamStore } from './params.js';
import { nativeOps } from './native.js';

export interface BatchNormPolicy {
  affine: 'trainable' | 'frozen';
  statistics: 'batch' | 'frozen';
  /** PyTorch convention: running = (1 − momentum)·running + momentum·batch. */
  momentum: number;
  eps: number;
}

export const TORCH_BN_DEFAULTS: BatchNormPolicy = { affine: 'trainable', statistics: 'batch', momentum: 0.1, eps: 1e-5 };

export class BatchNorm2d {
  readonly weight: Variable;
  readonly bias: Variable;
  readonly runningMean: Variable;
  readonly runningVar: Variable;

  constructor(
    store: ParamStore,
    name: string,
    channels: number,
    readonly policy: BatchNormPolicy,
    group?: string,
  ) {
    const trainable = policy.affine === 'trainable';
    const opts = group === undefined ? { trainable } : { trainable, group };
    this.weight = store.add(`${name}.weight`, tf.ones([channels]), opts);
    this.bias = store.add(`${name}.bias`, tf.zeros([channels]), opts);
    this.runningMean = store.add(`${name}.running_mean`, tf.zeros([channels]), { trainable: false });
    this.runningVar = store.add(`${name}.running_var`, tf.ones([channels]), { trainable: false });
  }

  apply(x: Tensor4D, training: boolean): Tensor4D {
    const { eps, momentum } = this.policy;
    if (!training || this.policy.statistics === 'frozen') {
      return this.affine(x, this.runningMean, this.runningVar, eps);
    }
    const native = nativeOps();
    if (native) {
      // One fused op forward and one backward on tfjs-node; it also yields the new running stats.
      const r = native.batchNormTrain(x, this.weight, this.bias, this.runningMean, this.runningVar, eps, momentum);
      this.runningMean.assign(r.mean);
      this.runningVar.assign(r.variance);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    this.updateRunning(mean as Tensor, variance as Tensor, x.size / x.shape[3], momentum);
    return this.affine(x, mean as Tensor, variance as Tensor, eps);
  }

  /** y = x·s + t with s = γ/√(σ²+ε), t = β − μ·s: two full-size ops instead of four. */
  private affine(x: Tensor4D, mean: Tensor, variance: Tensor, eps: number): Tensor4D {
    const scale = tf.mul(this.weight, tf.rsqrt(tf.add(variance, eps)));
    const shift = tf.sub(this.bias, tf.mul(mean, scale));
    return tf.add(tf.mul(x, scale), shift);
  }

  /** Running variance uses the unbiased batch variance, as PyTorch does. No gradient reaches
   * these (nothing downstream of the loss reads them), so recording them on a tape is harmless. */
  private updateRunning(mean: Tensor, variance: Tensor, count: number, momentum: number): void {
    const unbias = count > 1 ? count / (count - 1) : 1;
    const newMean = tf.tidy(() => tf.add(tf.mul(this.runningMean, 1 - momentum), tf.mul(mean, momentum)));
    const newVar = tf.tidy(() => tf.add(tf.mul(this.runningVar, 1 - momentum), tf.mul(variance, momentum * unbias)));
    this.runningMean.assign(newMean);
    this.runningVar.assign(newVar);
    newMean.dispose();
    newVar.dispose();
  }
}
