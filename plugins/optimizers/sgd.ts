import { tf, definePlugin, AblateError, type NamedTensorMap, type Network } from '../../src/index.js';
import { groupOverrideSchema, resolveGroups, type GroupOverrides } from './groups.js';
import { Counters, GroupLearningRates, optimizerWithRates, SlotBuffers } from './slot-state.js';

interface SgdOptions extends GroupOverrides {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weight_decay: number;
}

/**
 * SGD with PyTorch's exact update rule (torch.optim.SGD):
 *   d = g + wd·p;  buf = d on the first update, else m·buf + (1 − dampening)·d;
 *   d = d + m·buf (Nesterov) or buf;  p = p − lr·multiplier·d.
 * Variables without a gradient in a step are left alone, as PyTorch skips params whose grad is None.
 * The base learning rate is set by the slot's scheduler before every step.
 */
export const sgdOptimizer = definePlugin<'optimizer', SgdOptions>({
  kind: 'optimizer',
  type: 'sgd',
  description: 'Stochastic gradient descent with momentum, Nesterov, L2 weight decay and per-group lr multipliers (PyTorch semantics).',
  options: {
    type: 'object',
    properties: {
      momentum: { type: 'number', minimum: 0, default: 0.9, description: 'Momentum factor (reference: 0.9).' },
      dampening: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'Dampening of the momentum update, as in PyTorch (0 = none).' },
      nesterov: { type: 'boolean', default: false, description: 'Nesterov momentum (released code: off; the ICLR 2018 reproduction used it).' },
      weight_decay: { type: 'number', minimum: 0, default: 5e-4, description: 'L2 penalty added to the gradient, for every group unless a group overrides it (reference: 5e-4, also on the classifier).' },
      ...groupOverrideSchema,
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    if (options.nesterov && (options.momentum <= 0 || options.dampening !== 0)) {
      throw new AblateError('optimizer.bad-options', `${ctx.slot}: Nesterov momentum needs momentum > 0 and dampening 0 (as in PyTorch)`, { where: { key: `${ctx.slot}.nesterov` } });
    }
    const network = await ctx.target<Network>();
    const groups = resolveGroups(network, options.weight_decay, options, ctx.slot);
    const all = groups.flatMap((g) => g.variables);
    const momentum = options.momentum > 0 ? new SlotBuffers('momentum', all) : undefined;
    // How many updates each momentum buffer has absorbed: PyTorch seeds the buffer with the first
    // gradient rather than decaying from zero (they differ only when dampening > 0).
    const updates = new Counters('updates', all);
    const rates = new GroupLearningRates(groups);

    return optimizerWithRates(rates, {
      applyGradients(grads: NamedTensorMap) {
        tf.tidy(() => {
          // Hyper-parameters as scalar tensors made once per step (a JS number argument would
          // become a fresh scalar tensor in every op of every variable); same float32 values.
          // Everything else the update reads is a variable, so it can run in a compiled step.
          const m = tf.scalar(options.momentum);
          const oneMinusDampening = tf.scalar(1 - options.dampening);
          const one = tf.scalar(1);
          groups.forEach((group, gi) => {
            const lr = rates.of(gi);
            const wd = tf.scalar(group.weightDecay);
            for (const v of group.variables) {
              const g = grads[v.name];
              if (!g) continue;
              let d = group.weightDecay !== 0 ? g.add(v.mul(wd)) : g;
              const n = updates.get(v.name);
              if (momentum) {
                let buf = momentum.get(v.name).mul(m).add(options.dampening ? d.mul(oneMinusDampening) : d);
                // The buffer starts at zero, so without dampening m·0 + d is already d exactly;
                // with dampening the first update must take d undamped.
                if (options.dampening) buf = tf.where(tf.equal(n, 0), d, buf);
                momentum.set(v.name, buf);
                d = options.nesterov ? d.add(buf.mul(m)) : buf;
              }
              updates.increment(v.name, one);
              v.assign(v.sub(d.mul(lr)));
            }
          });
        });
      },
      getState() {
        const state: NamedTensorMap = {};
        momentum?.snapshot(state);
        updates.snapshot(state);
        return state;
      },
      setState(state: NamedTensorMap) {
        momentum?.restore(state);
        updates.restore(state);
      },
      dispose() {
        momentum?.dispose();
        updates.dispose();
        rates.dispose();
      },
    });
  },
});
