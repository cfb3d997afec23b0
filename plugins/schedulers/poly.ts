import { definePlugin, type Optimizer } from '../../src/index.js';

interface PolyOptions {
  lr: number;
  power: number;
  max_iterations: number;
  every: number;
  min_lr: number;
}

/**
 * The poly learning rate, lr = base·(1 − t/max)^power with t = floor(it/every)·every:
 * `every: 1` is the reference's smooth decay (and base-104), `every: 10` the reproduction repo's
 * staircase (base-101/103). Past `max_iterations` the rate keeps its last update's value (0 when
 * `every` divides `max_iterations`), as the reproduction repo's scheduler stops updating there.
 */
export function polyLearningRate(o: PolyOptions, iteration: number): number {
  const t = Math.floor(Math.min(iteration, o.max_iterations) / o.every) * o.every;
  return Math.max(o.lr * (1 - t / o.max_iterations) ** o.power, o.min_lr);
}

export const polyScheduler = definePlugin<'scheduler', PolyOptions>({
  kind: 'scheduler',
  type: 'poly',
  description: 'Polynomial decay lr·(1 − t/max)^power, recomputed every N iterations (1 = smooth, 10 = staircase).',
  options: {
    type: 'object',
    properties: {
      lr: { type: 'number', exclusiveMinimum: 0, default: 2.5e-4, description: 'Base learning rate at iteration 0 (reference: 2.5e-4 for the model, 1e-4 for the discriminator).' },
      power: { type: 'number', minimum: 0, default: 0.9, description: 'Exponent of the decay (reference: 0.9).' },
      max_iterations: {
        type: 'integer',
        minimum: 1,
        default: 20000,
        description: 'Iteration at which the rate reaches 0; usually `${trainer.iterations}` (reference: 20000).',
      },
      every: {
        type: 'integer',
        minimum: 1,
        default: 1,
        description: 'Recompute the rate only every N iterations: 1 = smooth decay (reference, base-104), 10 = staircase (base-101, base-103).',
      },
      min_lr: { type: 'number', minimum: 0, default: 0, description: 'Lower bound of the rate.' },
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const optimizer = await ctx.target<Optimizer>();
    const learningRateAt = (iteration: number) => polyLearningRate(options, iteration);
    return {
      learningRateAt,
      step(iteration: number) {
        optimizer.learningRate = learningRateAt(iteration);
        return optimizer.learningRate;
      },
    };
  },
});
