/** Shared fixtures for the config tests: a registry of fake plugins whose schemas exercise the config language (they cannot be built). */
import assert from 'node:assert/strict';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { AblateError, AblateErrors } from '../../src/errors.js';
import { definePlugin, componentSchema, type PluginKind, type JsonSchema } from '../../src/index.js';
import { constantScheduler } from '../../plugins/schedulers/constant.js';
import { adversarialPack } from '../../plugins/methods/adversarial/index.js';

function fake(kind: PluginKind, type: string, properties: Record<string, JsonSchema>, required: string[] = []) {
  return definePlugin({
    kind,
    type,
    description: `Test ${kind} ${type}.`,
    options: { type: 'object', properties, required, additionalProperties: false },
    create: () => ({}) as never,
  });
}

/** A registry whose plugins exercise every schema feature the config language relies on. */
export function testRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  r.registerAll(
    [
      constantScheduler,
      fake('model', 'toynet', {
        depth: { enum: [18, 34, 50, 101], default: 101, description: 'ResNet depth.' },
        rates: { type: 'array', items: { type: 'integer' }, default: [6, 12], description: 'Atrous rates.' },
        upsample: { enum: ['bilinear', 'transposed'], default: 'bilinear', description: 'Upsampling.' },
      }),
      // The real pack's kind and slots, with a fake discriminator.
      { ...adversarialPack, plugins: [fake('discriminator', 'fcdisc', { ndf: { type: 'integer', minimum: 1, default: 64, description: 'Width.' } })] },
      fake('optimizer', 'sgd', {
        lr: { type: 'number', exclusiveMinimum: 0, default: 2.5e-4, description: 'Learning rate.' },
        momentum: { type: 'number', minimum: 0, default: 0.9, description: 'Momentum.' },
      }),
      fake('optimizer', 'adam', {
        lr: { type: 'number', exclusiveMinimum: 0, default: 1e-4, description: 'Learning rate.' },
        betas: { type: 'array', items: { type: 'number' }, default: [0.9, 0.99], description: 'Betas.' },
      }),
      fake('scheduler', 'poly', { power: { type: 'number', default: 0.9, description: 'Power.' } }),
      fake('loss', 'ce2d', { ignore_label: { type: 'integer', default: 255, description: 'Ignored label.' } }),
      fake('metric', 'miou', {}),
      fake('transform', 'crop', { size: { type: 'integer', minimum: 1, default: 321, description: 'Crop size.' } }),
      fake('transform', 'mirror', { p: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'Probability.' } }),
      fake(
        'dataset',
        'toyvoc',
        {
          root: { type: 'string', description: 'Root folder.' },
          labeled_fraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1, description: 'Labeled fraction.' },
          transforms: { type: 'array', items: componentSchema('transform'), default: [], description: 'Transforms.' },
        },
        ['root'],
      ),
      fake('trainer', 'supervised', { iterations: { type: 'integer', minimum: 1, default: 100, description: 'Iterations.' }, batch_size: { type: 'integer', minimum: 1, default: 2, description: 'Batch.' } }),
      fake('trainer', 'adversarial-semi', {
        iterations: { type: 'integer', minimum: 1, default: 100, description: 'Iterations.' },
        batch_size: { type: 'integer', minimum: 1, default: 2, description: 'Batch.' },
        lambda_adv: { type: 'number', default: 0.01, description: 'Adversarial weight.' },
      }),
    ],
    'builtin',
  );
  return r;
}

/** A complete minimal experiment body (YAML) for the test registry. */
export const MINIMAL = `name: toy
model: {type: toynet}
optimizer: {type: sgd, lr: 0.01}
dataset: {type: toyvoc, root: data}
trainer: {type: supervised}
`;

/** Runs `fn`, expects located config errors, returns them (flattened). */
export async function errorsOf(fn: () => Promise<unknown>): Promise<AblateError[]> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof AblateErrors) return [...e.errors];
    if (e instanceof AblateError) return [e];
    throw e;
  }
  assert.fail('expected config errors');
}
