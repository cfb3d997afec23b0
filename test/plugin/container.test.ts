import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { ExperimentContainer, configuredSlots } from '../../src/plugin/container.js';
import { deriveSeed } from '../../src/seeds.js';
import { definePlugin, AblateError, type Optimizer, type NamedTensorMap } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/manifest.js';

const silent = { info() {}, warn() {}, debug() {} };

/** A minimal optimizer plugin that records which network it was given. */
const recordingOptimizer = definePlugin<'optimizer', { lr: number }>({
  kind: 'optimizer',
  type: 'recording',
  description: 'Test optimizer.',
  options: { type: 'object', properties: { lr: { type: 'number' } } },
  async create(options, ctx) {
    const target = await ctx.target<{ name: string }>();
    const opt: Optimizer & { servedNetwork: string } = {
      servedNetwork: target.name,
      learningRate: options.lr,
      learningRates: () => ({ all: opt.learningRate }),
      applyGradients: (_g: NamedTensorMap) => {},
      getState: () => ({}),
      setState: () => {},
      dispose: () => {},
    };
    return opt;
  },
});

function fakeNetworkPlugin(kind: 'model' | 'discriminator', type: string) {
  return definePlugin({
    kind,
    type,
    description: 'Test network.',
    options: { type: 'object' },
    create: () => ({ name: type, parameterGroups: () => [], stateDict: () => new Map(), dispose() {}, numClasses: 2, apply: (x: never) => x }) as never,
  });
}

function registry() {
  const r = new PluginRegistry();
  r.registerAll(builtinPlugins, 'builtin');
  r.registerAll([recordingOptimizer, fakeNetworkPlugin('model', 'net-g'), fakeNetworkPlugin('discriminator', 'net-d')], 'test');
  return r;
}

test('optimizers receive the network of their slot and schedulers their optimizer', async () => {
  const config = {
    seed: 3,
    model: { type: 'net-g' },
    discriminator: { type: 'net-d' },
    optimizer: { type: 'recording', lr: 0.1 },
    discriminator_optimizer: { type: 'recording', lr: 0.01 },
    scheduler: { type: 'constant', lr: 0.5 },
  };
  const c = new ExperimentContainer({ registry: registry(), config, baseDir: '.', log: silent });
  const g = (await c.get('optimizer', 'optimizer')) as Optimizer & { servedNetwork: string };
  const d = (await c.get('discriminator_optimizer', 'optimizer')) as Optimizer & { servedNetwork: string };
  assert.equal(g.servedNetwork, 'net-g');
  assert.equal(d.servedNetwork, 'net-d');
  const sched = await c.get('scheduler', 'scheduler');
  assert.equal(sched.step(7), 0.5);
  assert.equal(g.learningRate, 0.5, 'the scheduler set the generator optimizer');
  assert.equal(d.learningRate, 0.01, 'the discriminator optimizer is untouched');
  // Singletons: the same instance every time.
  assert.equal(await c.get('optimizer', 'optimizer'), g);
  // The D scheduler defaults to constant because a discriminator optimizer is configured.
  assert.ok(c.has('discriminator_scheduler'));
});

test('slot defaults apply only when their target exists', () => {
  const slots = configuredSlots({ model: { type: 'net-g' }, optimizer: { type: 'recording' } }, registry());
  assert.ok(slots.has('scheduler'));
  assert.ok(slots.has('trackers.0'), 'the trackers list defaults to the record alone');
  assert.ok(!slots.has('discriminator_scheduler'));
});

test('a missing dependency is a clear error naming the slot', async () => {
  const c = new ExperimentContainer({ registry: registry(), config: { model: { type: 'net-g' }, discriminator_optimizer: { type: 'recording', lr: 1 } }, baseDir: '.', log: silent });
  await assert.rejects(c.get('discriminator_optimizer', 'optimizer'), (e: unknown) => {
    assert.ok(e instanceof AblateError);
    assert.match(e.message, /needs a 'discriminator' component/);
    return true;
  });
});

test('unknown types suggest the closest registered name', () => {
  assert.throws(() => registry().get('scheduler', 'constnat'), (e: unknown) => {
    assert.ok(e instanceof AblateError);
    assert.match(e.hint ?? '', /did you mean 'constant'/);
    return true;
  });
});

test('a taken plugin name names both sources', () => {
  const r = registry();
  assert.throws(() => r.register({ ...recordingOptimizer }, 'my-plugins.ts'), /clashes with the one already registered by test/);
});

test('a malformed plugin is rejected with every problem listed', () => {
  const r = new PluginRegistry();
  assert.throws(() => r.register({ kind: 'modle', type: 'x y' } as never, 'bad.ts'), /kind must be one of.*type must be.*description is missing/);
});

test('derived seeds differ per slot and are stable', () => {
  assert.equal(deriveSeed(1, 'model'), deriveSeed(1, 'model'));
  assert.notEqual(deriveSeed(1, 'model'), deriveSeed(1, 'discriminator'));
  assert.notEqual(deriveSeed(1, 'model'), deriveSeed(2, 'model'));
});

/** A component that asks for the given slots, all at once (Promise.all) or one after another. */
function askingPlugin(kind: 'trainer' | 'dataset' | 'model', type: string, asks: readonly (readonly [string, 'model' | 'optimizer' | 'dataset' | 'trainer'])[], concurrently: boolean) {
  return definePlugin({
    kind,
    type,
    description: 'Test: asks for other components.',
    options: { type: 'object' },
    async create(_o, ctx) {
      const got = concurrently ? await Promise.all(asks.map(([slot, k]) => ctx.get(slot, k))) : [];
      if (!concurrently) for (const [slot, k] of asks) got.push(await ctx.get(slot, k));
      return { got, iterations: 0, numClasses: 2, parameterGroups: () => [], stateDict: () => new Map(), dispose() {}, apply: (x: never) => x } as never;
    },
  });
}

test('a component may await two dependencies concurrently (no false cycle)', async () => {
  const r = registry();
  r.register(askingPlugin('trainer', 'both-at-once', [['model', 'model'], ['optimizer', 'optimizer']], true), 'test');
  const c = new ExperimentContainer({ registry: r, config: { model: { type: 'net-g' }, optimizer: { type: 'recording', lr: 1 }, trainer: { type: 'both-at-once' } }, baseDir: '.', log: silent });
  const trainer = (await c.get('trainer', 'trainer')) as unknown as { got: unknown[] };
  assert.equal(trainer.got.length, 2);
  assert.equal(trainer.got[0], await c.get('model', 'model'));
  assert.equal((trainer.got[1] as { servedNetwork: string }).servedNetwork, 'net-g');
});

test('a real dependency cycle is reported, naming the cycle', async () => {
  const r = registry();
  r.register(askingPlugin('trainer', 'needs-data', [['dataset', 'dataset']], false), 'test');
  r.register(askingPlugin('dataset', 'needs-trainer', [['trainer', 'trainer']], false), 'test');
  const c = new ExperimentContainer({ registry: r, config: { trainer: { type: 'needs-data' }, dataset: { type: 'needs-trainer' } }, baseDir: '.', log: silent });
  await assert.rejects(c.get('trainer', 'trainer'), (e: unknown) => {
    assert.ok(e instanceof AblateError, String(e));
    assert.equal(e.code, 'experiment.dependency-cycle');
    assert.match(e.message, /trainer → dataset → trainer/);
    return true;
  });
});

test('a cycle closed through a build another request started is still found (no deadlock)', async () => {
  // The trainer asks for model and dataset at once; the model waits for the dataset and the
  // dataset for the model. Neither build was started by the other, so only the graph of who
  // waits for whom shows the cycle.
  const r = registry();
  r.register(askingPlugin('trainer', 'wants-both', [['model', 'model'], ['dataset', 'dataset']], true), 'test');
  r.register(askingPlugin('model', 'needs-data-model', [['dataset', 'dataset']], false), 'test');
  r.register(askingPlugin('dataset', 'needs-model', [['model', 'model']], false), 'test');
  const c = new ExperimentContainer({ registry: r, config: { trainer: { type: 'wants-both' }, model: { type: 'needs-data-model' }, dataset: { type: 'needs-model' } }, baseDir: '.', log: silent });
  await assert.rejects(c.get('trainer', 'trainer'), /cycle: (model → dataset → model|dataset → model → dataset)/);
});

test('dispose() releases every built component, also when a later build failed', async () => {
  const released: string[] = [];
  const r = registry();
  r.register(
    definePlugin({ kind: 'model', type: 'releasing', description: 'Test.', options: { type: 'object' }, create: () => ({ parameterGroups: () => [], stateDict: () => new Map(), dispose: () => released.push('model') }) as never }),
    'test',
  );
  r.register(definePlugin({ kind: 'dataset', type: 'broken', description: 'Test.', options: { type: 'object' }, create: () => { throw new Error('no data'); } }), 'test');
  r.register(askingPlugin('trainer', 'model-then-data', [['model', 'model'], ['dataset', 'dataset']], false), 'test');
  const c = new ExperimentContainer({ registry: r, config: { model: { type: 'releasing' }, dataset: { type: 'broken' }, trainer: { type: 'model-then-data' } }, baseDir: '.', log: silent });
  await assert.rejects(c.get('trainer', 'trainer'), /no data/);
  await c.dispose();
  assert.deepEqual(released, ['model']);
  await c.dispose();
  assert.deepEqual(released, ['model'], 'released once');
});

test('buildAgain builds a slot\'s configured component once more, under another name', async () => {
  const built: { slot: string; options: Record<string, unknown> }[] = [];
  const r = registry();
  r.register(
    definePlugin({
      kind: 'model',
      type: 'named',
      description: 'Test.',
      options: { type: 'object', properties: { width: { type: 'number' } } },
      create: (options, ctx) => {
        built.push({ slot: ctx.slot, options });
        return { slot: ctx.slot, parameterGroups: () => [], stateDict: () => new Map(), dispose() {} } as never;
      },
    }),
    'test',
  );
  let copy: unknown;
  r.register(
    definePlugin({
      kind: 'trainer',
      type: 'copying',
      description: 'Test.',
      options: { type: 'object' },
      create: async (_o, ctx) => {
        const model = await ctx.get('model', 'model');
        copy = await ctx.buildAgain('model', 'model', 'trainer/teacher');
        assert.notEqual(copy, model);
        await assert.rejects(ctx.buildAgain('model', 'optimizer', 'x'), (e: AblateError) => e.code === 'experiment.wrong-kind');
        await assert.rejects(ctx.buildAgain('model', 'model', 'model'), (e: AblateError) => e.code === 'experiment.slot-taken');
        await assert.rejects(ctx.buildAgain('discriminator', 'discriminator', 'x'), (e: AblateError) => e.code === 'experiment.missing-component' && /copy of the 'discriminator'/.test(e.message));
        return { iterations: 1, step: async () => ({ scalars: {} }), getState: () => ({}), setState() {} };
      },
    }),
    'test',
  );
  const c = new ExperimentContainer({ registry: r, config: { model: { type: 'named', width: 4 }, trainer: { type: 'copying' } }, baseDir: '.', log: silent });
  await c.get('trainer', 'trainer');
  assert.deepEqual(built, [
    { slot: 'model', options: { width: 4 } },
    { slot: 'trainer/teacher', options: { width: 4 } },
  ]);
  assert.equal((copy as { slot: string }).slot, 'trainer/teacher');
  assert.equal(await c.get('model', 'model'), (await c.get('model', 'model')), 'the slot keeps its own instance');
});
