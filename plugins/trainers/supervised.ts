import { tf, definePlugin, type StepResult } from '../../src/index.js';
import { imagesOf, labelsOf, lossOrDefault, lrScalars, scalarValue, Streams, trainableVariables, trainerBaseSchema } from './common.js';

interface SupervisedOptions {
  iterations: number;
  batch_size: number;
}

/** The baseline: cross-entropy on labeled batches, one SGD step per iteration. */
export const supervisedTrainer = definePlugin<'trainer', SupervisedOptions>({
  kind: 'trainer',
  type: 'supervised',
  description: 'Supervised segmentation: the `losses.seg` loss on labeled batches (the paper\'s baseline rows).',
  options: { type: 'object', properties: { ...trainerBaseSchema }, additionalProperties: false },
  async create(o, ctx) {
    const model = await ctx.get('model', 'model');
    const optimizer = await ctx.get('optimizer', 'optimizer');
    const scheduler = await ctx.get('scheduler', 'scheduler');
    const dataset = await ctx.get('dataset', 'dataset');
    const segLoss = await lossOrDefault(ctx, 'seg', { type: 'ce2d', ignore_index: dataset.ignoreIndex });
    const labeled = dataset.stream('labeled', { batchSize: o.batch_size, seed: ctx.seed });
    const streams = new Streams({ labeled });
    const vars = trainableVariables(model);
    return {
      iterations: o.iterations,
      async step(iteration: number): Promise<StepResult> {
        scheduler.step(iteration);
        const batch = await labeled.next();
        const scalars: Record<string, number> = {};
        tf.tidy(() => {
          const x = imagesOf(batch);
          const y = labelsOf(batch, 'labeled stream');
          const { grads } = tf.variableGrads(() => {
            const loss = segLoss.compute({ logits: model.apply(x, { training: true }), labels: y }).loss;
            scalars.loss_seg = scalarValue(loss);
            return loss;
          }, vars);
          optimizer.applyGradients(grads);
        });
        return { scalars: { ...scalars, ...lrScalars('optimizer', optimizer) } };
      },
      getState: () => streams.getState(),
      setState: (s) => streams.setState(s),
      close: () => streams.close(),
    };
  },
});
