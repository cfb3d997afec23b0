// A user plugin, exactly as the README's "Write a plugin" shows it: a cosine learning-rate decay.
// It imports only the public API (`ablate`), and an experiment loads it through `plugins:`.
import { definePlugin, type Optimizer } from 'ablate';

export default definePlugin<'scheduler', { lr: number; max_iterations: number }>({
  kind: 'scheduler',
  type: 'cosine',
  description: 'Cosine decay from lr to 0 over max_iterations.',
  options: {
    type: 'object',
    properties: {
      lr: { type: 'number', exclusiveMinimum: 0, default: 2.5e-4, description: 'Base learning rate.' },
      max_iterations: { type: 'integer', minimum: 1, default: 20000, description: 'Length of the decay.' },
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const optimizer = await ctx.target<Optimizer>();
    const learningRateAt = (i: number) => 0.5 * options.lr * (1 + Math.cos((Math.PI * Math.min(i, options.max_iterations)) / options.max_iterations));
    return {
      learningRateAt,
      step: (i: number) => (optimizer.learningRate = learningRateAt(i)),
    };
  },
});
