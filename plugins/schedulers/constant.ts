import { definePlugin, type Optimizer } from '../../src/index.js';

interface ConstantOptions {
  lr: number;
}

/** Keeps the learning rate fixed: base-102's "no poly decay". */
export const constantScheduler = definePlugin<'scheduler', ConstantOptions>({
  kind: 'scheduler',
  type: 'constant',
  description: 'Keeps the base learning rate fixed for the whole run.',
  options: {
    type: 'object',
    properties: {
      lr: { type: 'number', exclusiveMinimum: 0, default: 2.5e-4, description: 'The base learning rate (group multipliers still apply).' },
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const optimizer = await ctx.target<Optimizer>();
    const learningRateAt = (_iteration: number) => options.lr;
    return {
      learningRateAt,
      step(iteration: number) {
        optimizer.learningRate = learningRateAt(iteration);
        return optimizer.learningRate;
      },
    };
  },
});
