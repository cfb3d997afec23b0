import { tf, definePlugin, type NamedTensorMap, type Network } from '../../src/index.js';
import { groupOverrideSchema, resolveGroups, type GroupOverrides } from './groups.js';
import { Counters, GroupLearningRates, optimizerWithRates, SlotBuffers } from './slot-state.js';

interface AdamOptions extends GroupOverrides {
  betas: [number, number];
  eps: number;
  weight_decay: number;
  decoupled_weight_decay: boolean;
}

/**
 * Adam with PyTorch's exact update rule (torch.optim.Adam, per-parameter step counts):
 *   g = g + wd·p;  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;
 *   p = p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε).
 * With `decoupled_weight_decay` it is AdamW (p = p·(1 − lr·wd) instead of the L2 term).
 */
export const adamOptimizer = definePlugin<'optimizer', AdamOptions>({
  kind: 'optimizer',
  type: 'adam',
  description: 'Adam (PyTorch semantics) with optional L2 or decoupled weight decay and per-group lr multipliers.',
  options: {
    type: 'object',
    properties: {
      betas: {
        type: 'array',
        items: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        minItems: 2,
        maxItems: 2,
        default: [0.9, 0.99],
        description: 'Decay rates of the first and second moment estimates (reference discriminator: [0.9, 0.99]; PyTorch default [0.9, 0.999]).',
      },
      eps: { type: 'number', exclusiveMinimum: 0, default: 1e-8, description: 'Added to the denominator for numerical stability.' },
      weight_decay: { type: 'number', minimum: 0, default: 0, description: 'Weight decay (reference discriminator: 0).' },
      decoupled_weight_decay: { type: 'boolean', default: false, description: 'Apply weight decay to the weights directly (AdamW) instead of adding it to the gradient.' },
      ...groupOverrideSchema,
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const network = await ctx.target<Network>();
    const groups = resolveGroups(network, options.weight_decay, options, ctx.slot);
    const all = groups.flatMap((g) => g.variables);
    const [beta1, beta2] = options.betas;
    const m1 = new SlotBuffers('exp_avg', all);
    const m2 = new SlotBuffers('exp_avg_sq', all);
    const steps = new Counters('step', all);
    const rates = new GroupLearningRates(groups);

    return optimizerWithRates(rates, {
      applyGradients(grads: NamedTensorMap) {
        tf.tidy(() => {
          // Constant hyper-parameters as scalar tensors made once per step (a JS number argument
          // would become a fresh scalar tensor in every op of every variable); same float32 values.
          const b1 = tf.scalar(beta1);
          const oneMinusB1 = tf.scalar(1 - beta1);
          const b2 = tf.scalar(beta2);
          const oneMinusB2 = tf.scalar(1 - beta2);
          const eps = tf.scalar(options.eps);
          const one = tf.scalar(1);
          groups.forEach((group, gi) => {
            const lr = rates.of(gi);
            const wd = group.weightDecay;
            for (const v of group.variables) {
              let g = grads[v.name];
              if (!g) continue;
              // The step count and the bias corrections are tensors (PyTorch's capturable Adam):
              // 1 − β^t in float32, within an ulp of the double-precision value.
              const t = steps.increment(v.name, one);
              let p: tf.Tensor = v;
              if (wd !== 0 && options.decoupled_weight_decay) p = p.mul(one.sub(lr.mul(wd)));
              else if (wd !== 0) g = g.add(v.mul(wd));
              const m = m1.get(v.name).mul(b1).add(g.mul(oneMinusB1));
              const s = m2.get(v.name).mul(b2).add(g.square().mul(oneMinusB2));
              m1.set(v.name, m);
              m2.set(v.name, s);
              const stepSize = lr.div(one.sub(tf.pow(b1, t)));
              const denom = s.sqrt().div(one.sub(tf.pow(b2, t)).sqrt()).add(eps);
              v.assign(p.sub(m.div(denom).mul(stepSize)));
            }
          });
        });
      },
      getState() {
        const state: NamedTensorMap = {};
        m1.snapshot(state);
        m2.snapshot(state);
        steps.snapshot(state);
        return state;
      },
      setState(state: NamedTensorMap) {
        m1.restore(state);
        m2.restore(state);
        steps.restore(state);
      },
      dispose() {
        m1.dispose();
        m2.dispose();
        steps.dispose();
        rates.dispose();
      },
    });
  },
});
