import { AblateError, definePlugin, type Optimizer } from '../../src/index.js';

interface StepOptions {
  lr: number;
  gamma: number;
  step_size: number | null;
  milestones: number[];
}

/** Multiplies the rate by `gamma` every `step_size` iterations, or at each of `milestones`. */
export const stepScheduler = definePlugin<'scheduler', StepOptions>({
  kind: 'scheduler',
  type: 'step',
  description: 'Step decay: lr·gamma^k after k steps (every `step_size` iterations, or at listed `milestones`).',
  options: {
    type: 'object',
    properties: {
      lr: { type: 'number', exclusiveMinimum: 0, default: 2.5e-4, description: 'Base learning rate at iteration 0.' },
      gamma: { type: 'number', exclusiveMinimum: 0, default: 0.1, description: 'Factor applied at every step.' },
      step_size: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Decay every this many iterations (used when `milestones` is empty).' },
      milestones: {
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        default: [],
        description: 'Iterations at which to decay, ascending (takes precedence over `step_size`).',
      },
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const milestones = [...options.milestones];
    if (milestones.length === 0 && options.step_size === null) {
      throw new AblateError('scheduler.bad-options', `${ctx.slot}: the step scheduler needs \`step_size\` or \`milestones\``, {
        where: { key: ctx.slot },
        hint: 'e.g. `step_size: 5000` or `milestones: [10000, 15000]`',
      });
    }
    if (milestones.some((m, i) => i > 0 && m <= milestones[i - 1]!)) {
      throw new AblateError('scheduler.bad-options', `${ctx.slot}.milestones must be strictly ascending, got [${milestones.join(', ')}]`, { where: { key: `${ctx.slot}.milestones` } });
    }
    const optimizer = await ctx.target<Optimizer>();
    const decays = (it: number) => (milestones.length > 0 ? milestones.filter((m) => m <= it).length : Math.floor(it / options.step_size!));
    const learningRateAt = (iteration: number) => options.lr * options.gamma ** decays(iteration);
    return {
      learningRateAt,
      step(iteration: number) {
        optimizer.learningRate = learningRateAt(iteration);
        return optimizer.learningRate;
      },
    };
  },
});
