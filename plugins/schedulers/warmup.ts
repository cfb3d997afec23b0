import { componentSchema, definePlugin, type ComponentConfig, type Optimizer } from '../../src/index.js';

interface WarmupOptions {
  iterations: number;
  start_factor: number;
  mode: 'linear' | 'constant';
  scheduler: ComponentConfig;
}

/**
 * Scales another scheduler's rate during the first `iterations`: linearly from `start_factor` to 1
 * (`linear`), or by `start_factor` flat (`constant`). After the warm-up it is the wrapped schedule,
 * unshifted (iteration i gets the wrapped rate of iteration i).
 */
export function warmupFactor(o: Pick<WarmupOptions, 'iterations' | 'start_factor' | 'mode'>, iteration: number): number {
  if (iteration >= o.iterations) return 1;
  if (o.mode === 'constant') return o.start_factor;
  return o.start_factor + (1 - o.start_factor) * (iteration / o.iterations);
}

export const warmupScheduler = definePlugin<'scheduler', WarmupOptions>({
  kind: 'scheduler',
  type: 'warmup',
  description: 'Warm-up wrapper: ramps another scheduler\'s rate up over the first iterations.',
  options: {
    type: 'object',
    properties: {
      iterations: { type: 'integer', minimum: 0, default: 500, description: 'Length of the warm-up, in iterations.' },
      start_factor: { type: 'number', minimum: 0, maximum: 1, default: 0.001, description: 'Multiplier of the wrapped rate at iteration 0.' },
      mode: { enum: ['linear', 'constant'], default: 'linear', description: '`linear`: factor rises from start_factor to 1; `constant`: factor stays start_factor until the warm-up ends.' },
      scheduler: componentSchema('scheduler', { description: 'The wrapped schedule, e.g. `{type: poly, lr: 2.5e-4}` (it serves the same optimizer).' }),
    },
    required: ['scheduler'],
    additionalProperties: false,
  },
  async create(options, ctx) {
    const optimizer = await ctx.target<Optimizer>();
    const inner = await ctx.build('scheduler', options.scheduler, `${ctx.slot}.scheduler`);
    const learningRateAt = (iteration: number) => inner.learningRateAt(iteration) * warmupFactor(options, iteration);
    return {
      learningRateAt,
      step(iteration: number) {
        optimizer.learningRate = learningRateAt(iteration);
        return optimizer.learningRate;
      },
    };
  },
});
