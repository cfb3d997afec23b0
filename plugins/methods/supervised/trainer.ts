import { tf, definePlugin, defineStep, type StepResult, type Tensor, type Tensor4D } from '../../../src/index.js';
import { imagesOf, labelsOf, lossOrDefault, Streams, trainableVariables, trainerBaseSchema } from '../common.js';

interface SupervisedOptions {
  iterations: number;
  batch_size: number;
}

/** The baseline: cross-entropy on labeled batches, one optimizer step per iteration. */
export const supervisedTrainer = definePlugin<'trainer', SupervisedOptions>({
  kind: 'trainer',
  type: 'supervised',
  description: 'Supervised segmentation: the `losses.seg` loss on labeled batches (the paper\'s baseline rows).',
  options: { type: 'object', properties: { ...trainerBaseSchema }, additionalProperties: false },
  async create(o, ctx) {
    const model = await ctx.get('model', 'model');
    const optimizer = await ctx.get('optimizer', 'optimizer');
    const dataset = await ctx.get('dataset', 'dataset');
    const segLoss = await lossOrDefault(ctx, 'seg', { type: 'ce2d', ignore_index: dataset.ignoreIndex });
    const streams = new Streams(dataset, { batchSize: o.batch_size, seed: ctx.seed });
    const labeled = streams.open('labeled', { subset: 'labeled' });
    const vars = trainableVariables(model);
    // A pure tensor program of the batch and the variables; the loss is read back after it.
    const step = defineStep(ctx, ([x, y]) => {
      let lossSeg: Tensor | undefined;
      const { grads } = tf.variableGrads(() => {
        const loss = segLoss.compute({ logits: model.apply(x as Tensor4D, { training: true }), labels: y! }).loss;
        lossSeg = tf.keep(loss);
        return loss;
      }, vars);
      optimizer.applyGradients(grads);
      return { loss_seg: lossSeg! };
    });
    return {
      iterations: o.iterations,
      async step(): Promise<StepResult> {
        const batch = await labeled.next();
        return { scalars: step.run([imagesOf(batch), labelsOf(batch, 'labeled stream')]) };
      },
      getState: () => streams.getState(),
      setState: (s) => streams.setState(s),
      close: () => {
        step.dispose();
        streams.close();
      },
    };
  },
});
