import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { ExperimentContainer, configuredSlots } from '../../src/plugin/container.js';
import { loadUserPlugins } from '../../src/plugin/loader.js';
import { composeExperimentSchema } from '../../src/config/schema.js';
import { AblateError, PLUGIN_KINDS, definePack, definePlugin } from '../../src/index.js';
import { builtinPlugins } from '../../plugins/manifest.js';
import { loadExperiment } from '../../src/config/load.js';
import { ablateFromSource } from '../support/cli.js';
import { tinyPluginsFile } from '../support/paths.js';
import { tinyExperimentLines, writeTinyExperiment } from '../support/tiny-experiment-file.js';

const silent = { info() {}, warn() {}, debug() {} };

/** A pack adding a `critic` kind, a `critic` slot and its optimizer and schedule slots. */
function criticPack(extra: Partial<Parameters<typeof definePack>[0]> = {}) {
  const critic = definePlugin({
    kind: 'critic' as never,
    type: 'tiny-critic',
    description: 'Test: a critic network.',
    options: { type: 'object', properties: { width: { type: 'integer', default: 2 } } },
    create: (o: { width: number }) => ({ width: o.width, parameterGroups: () => [], stateDict: () => new Map(), dispose() {} }) as never,
  });
  return definePack({
    name: 'critic',
    plugins: [critic],
    kinds: ['critic' as never],
    slots: {
      critic: { kind: 'critic' as never, description: 'Test: the critic.' },
      critic_optimizer: { kind: 'optimizer', target: 'critic', description: "Test: the critic's optimizer." },
      critic_scheduler: { kind: 'scheduler', target: 'critic_optimizer', default: { type: 'constant' }, description: 'Test: its schedule.' },
    },
    ...extra,
  });
}

/** An optimizer that only remembers which network it serves. */
const servingOptimizer = definePlugin({
  kind: 'optimizer',
  type: 'serving',
  description: 'Test: records its target.',
  options: { type: 'object' },
  async create(_o, ctx) {
    const served = await ctx.target();
    return { served, learningRate: 0, learningRates: () => ({}), applyGradients() {}, getState: () => ({}), setState() {}, dispose() {} } as never;
  },
});

function registryWith(...packs: ReturnType<typeof criticPack>[]) {
  const r = new PluginRegistry();
  r.registerAll(builtinPlugins, 'builtin');
  r.register(servingOptimizer, 'test');
  for (const p of packs) r.register(p, 'test');
  return r;
}

test('the core knows no discriminator: the adversarial pack contributes the kind and its slots', () => {
  assert.ok(!(PLUGIN_KINDS as readonly string[]).includes('discriminator'));
  const bare = new PluginRegistry();
  assert.equal(bare.slot('discriminator'), undefined);
  assert.ok(!bare.hasKind('discriminator'));
  const full = registryWith();
  assert.ok(full.hasKind('discriminator'));
  // Other built-in packs may come and go; the adversarial one brings exactly the discriminator parts.
  const adversarial = full.packs().find((p) => p.name === 'adversarial');
  assert.deepEqual(adversarial && [adversarial.kinds, Object.keys(adversarial.slots)], [['discriminator'], ['discriminator', 'discriminator_optimizer', 'discriminator_scheduler']]);
  // A plugin of a pack's kind cannot come without its pack.
  const fcdisc = builtinPlugins.flatMap((e) => ('plugins' in e ? e.plugins : [e])).find((p) => p.type === 'fcdisc')!;
  assert.throws(() => bare.register(fcdisc, 'somewhere.ts'), /kind must be one of model, optimizer.*\(got "discriminator"\)/);
});

test("a pack's slots reach the schema, the slot defaults and the container (targets included)", async () => {
  const r = registryWith(criticPack());
  const schema = composeExperimentSchema(r) as { properties: Record<string, { $ref?: string }> };
  assert.equal(schema.properties.critic?.$ref, '#/$defs/component.critic');
  assert.equal(schema.properties.critic_optimizer?.$ref, '#/$defs/component.optimizer');
  assert.ok(!configuredSlots({ model: { type: 'x' } }, r).has('critic_scheduler'), 'no critic optimizer, no default critic schedule');
  const config = { critic: { type: 'tiny-critic', width: 3 }, critic_optimizer: { type: 'serving' } };
  assert.ok(configuredSlots(config, r).has('critic_scheduler'));
  const c = new ExperimentContainer({ registry: r, config, baseDir: '.', log: silent });
  const critic = (await c.get('critic', 'critic' as never)) as { width: number };
  assert.equal(critic.width, 3);
  const opt = (await c.get('critic_optimizer', 'optimizer')) as unknown as { served: unknown };
  assert.equal(opt.served, critic, 'the pack slot serves its target slot');
});

test("a pack's map slots: named components of one kind, in the schema, the container, a user's file and `ablate plugins`", async () => {
  const r = registryWith(criticPack({ mapSlots: { critics: { kind: 'critic' as never, description: 'Test: named critics.' } } }));
  const schema = composeExperimentSchema(r) as { properties: Record<string, { additionalProperties?: { $ref?: string } }> };
  assert.equal(schema.properties.critics?.additionalProperties?.$ref, '#/$defs/component.critic');
  const config = { critics: { small: { type: 'tiny-critic', width: 1 }, large: { type: 'tiny-critic', width: 5 } } };
  assert.deepEqual([...configuredSlots(config, r).keys()].filter((k) => k.startsWith('critics.')), ['critics.small', 'critics.large']);
  const c = new ExperimentContainer({ registry: r, config, baseDir: '.', log: silent });
  const widths = await Promise.all(['critics.small', 'critics.large'].map(async (slot) => ((await c.get(slot, 'critic' as never)) as { width: number }).width));
  assert.deepEqual(widths, [1, 5]);
  assert.equal(r.copy().mapSlots().get('critics')?.kind, 'critic', 'a copy keeps the map slot');
  assert.equal(r.mapSlots().get('losses')?.kind, 'loss', "the core's map slots stay");
  assert.deepEqual(Object.keys(r.packs().find((p) => p.name === 'critic')!.mapSlots), ['critics']);

  // From a user's module, through a file: validated by the plugin's schema, mistakes located.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-pack-map-'));
  writeFileSync(
    path.join(dir, 'judges.ts'),
    `import { definePack, definePlugin } from ${JSON.stringify(path.resolve('src/index.ts'))};
const judge = definePlugin({ kind: 'loss', type: 'my-judge', description: 'A judge.', options: { type: 'object', properties: { level: { type: 'integer', default: 1 } }, additionalProperties: false }, create: (o: { level: number }) => ({ level: o.level }) as never });
export default definePack({ name: 'judges', plugins: [judge], mapSlots: { judges: { kind: 'loss', description: 'Named judges.' } } });
`,
  );
  const plugins = [tinyPluginsFile, path.join(dir, 'judges.ts')];
  const goodFile = writeTinyExperiment(dir, { plugins, judges: { strict: { type: 'my-judge', level: 3 }, lenient: { type: 'my-judge' } } });
  const good = await loadExperiment(goodFile);
  assert.deepEqual(good.config.judges, { strict: { type: 'my-judge', level: 3 }, lenient: { type: 'my-judge', level: 1 } });
  const bad = writeTinyExperiment(dir, { plugins, judges: { strict: { type: 'my-judge', levle: 3 } } }, { file: 'bad.yaml' });
  await assert.rejects(loadExperiment(bad), (e: Error & { errors?: { where?: { key?: string; line?: number } }[]; where?: { key?: string; line?: number } }) => {
    const err = e.errors?.[0] ?? e;
    assert.deepEqual([err.where?.key, err.where?.line], ['judges.strict.levle', tinyExperimentLines({ plugins }, dir).length + 1], e.message);
    return true;
  });
  const listed = await ablateFromSource(['plugins', '--experiment', goodFile], dir);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /\n {2}map slot judges: named loss components {2}Named judges\./);
});

test('pack clashes and mistakes are named', () => {
  const clash = (pack: ReturnType<typeof criticPack>, re: RegExp) =>
    assert.throws(() => registryWith(pack), (e: unknown) => e instanceof AblateError && re.test(e.message));
  clash(criticPack({ slots: { model: { kind: 'model', description: 'x' } } }), /pack 'critic' \(test\) adds the slot 'model', which the core already has/);
  clash(criticPack({ slots: { discriminator: { kind: 'model', description: 'x' } } }), /adds the slot 'discriminator', which pack 'adversarial' \(builtin\) already has/);
  clash(criticPack({ slots: { trackers: { kind: 'tracker', description: 'x' } } }), /adds the slot 'trackers', which the core already has/);
  clash(criticPack({ mapSlots: { losses: { kind: 'loss', description: 'x' } } }), /adds the slot 'losses', which the core already has/);
  clash(criticPack({ mapSlots: { critic: { kind: 'loss', description: 'x' } } }), /adds the slot 'critic', which pack 'critic' \(test\) already has/);
  clash(criticPack({ mapSlots: { Judges: { kind: 'loss', description: 'x' } } }), /slot 'Judges' must be a lower-case key/);
  clash(criticPack({ mapSlots: { judges: { kind: 'referee' as never, description: 'x' } } }), /slot 'judges' holds the unknown kind 'referee'/);
  clash(criticPack({ kinds: ['discriminator'] }), /adds the kind 'discriminator', which pack 'adversarial' \(builtin\) already has/);
  clash(criticPack({ slots: { judge: { kind: 'referee' as never, description: 'x' } } }), /slot 'judge' holds the unknown kind 'referee'/);
  clash(criticPack({ slots: { judge_opt: { kind: 'optimizer', target: 'judge', description: 'x' } } }), /slot 'judge_opt' serves 'judge', which is no slot/);
  const r = registryWith(criticPack({ slots: { evaluation: { kind: 'model', description: 'x' } } }));
  assert.throws(() => composeExperimentSchema(r), /the slot 'evaluation' clashes with the engine's 'evaluation:' block/);
});

test("a user's plugin module may export a pack (plugins: list), and copies of a registry keep its slots", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-pack-'));
  const index = path.resolve('src/index.ts');
  writeFileSync(
    path.join(dir, 'my-pack.ts'),
    `import { definePack, definePlugin } from ${JSON.stringify(index)};
const judge = definePlugin({ kind: 'judge' as never, type: 'my-judge', description: 'A judge.', options: { type: 'object' }, create: () => ({}) as never });
export default definePack({ name: 'mine', plugins: [judge], kinds: ['judge' as never], slots: { judge: { kind: 'judge' as never, description: 'The judge.' } } });
`,
  );
  const r = registryWith();
  const counts = await loadUserPlugins(['./my-pack.ts'], dir, r);
  assert.equal(counts.get('./my-pack.ts'), 1);
  assert.deepEqual(r.types('judge' as never), ['my-judge']);
  const copy = r.copy();
  assert.equal(copy.slot('judge')?.kind, 'judge');
  assert.equal(copy.slot('discriminator')?.kind, 'discriminator');
  const sources = copy.packs().map((p) => `${p.name}@${p.source}`);
  assert.ok(sources.includes('adversarial@builtin') && sources.at(-1) === 'mine@./my-pack.ts', sources.join(', '));
});
