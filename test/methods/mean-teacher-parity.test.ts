/**
 * One mean-teacher iteration with CutMix and one with ClassMix against the PyTorch reference
 * (tools/make_mean_teacher_fixtures.py, the authors' released code re-typed): same initial
 * weights, batch and mask draws (the reference replays the uniforms ablate's generator hands the
 * mask plugins). Losses within 1e-5, the updated student within 1e-4, and the teacher exactly the
 * float32 EMA of the initial weights and the updated student.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf, type Batch, type Network, type Rng } from '../../src/index.js';
import { assemble, backends, fixture, flatten, iterate, shapeOf, useBackend } from '../trainers/support.js';
import { assertClose } from '../support/numeric.js';
import { batchSource, testPlugins, tinyInit, type InitTensor } from '../trainers/tiny-plugins.js';
import { drawBoxMasks } from '../../plugins/methods/mean-teacher/cutmix.js';

interface Scenario {
  iteration: number;
  threshold: number;
  uniforms: number[];
  scalars: Record<string, number>;
  mask: number[][][];
  student: Record<string, number[]>;
  teacher: Record<string, number[]>;
}

const fx = fixture<{ num_classes: number; lr: number; init: Record<string, InitTensor>; batch: { xl: number[][][][]; yl: number[][][]; xu: number[][][][] }; scenarios: Record<'cutmix' | 'classmix', Scenario> }>('mean-teacher.json');

function fixtureBatch(name: string): Batch {
  const x = name === 'unlabeled' ? fx.batch.xu : fx.batch.xl;
  return {
    ids: [],
    shape: shapeOf(x) as [number, number, number, number],
    images: Float32Array.from(flatten(x)),
    labels: name === 'unlabeled' ? undefined : Int32Array.from(flatten(fx.batch.yl)),
  };
}

/** The reference's uniforms, in the order the mask plugin draws them. */
function replay(uniforms: readonly number[]): Rng {
  const left = [...uniforms];
  return {
    next: () => {
      assert.ok(left.length > 0, 'the mask plugin drew more numbers than the reference');
      return left.shift()!;
    },
    int: () => assert.fail('no integer draws expected'),
  };
}

/** PyTorch layout (OIHW) of every tensor of a network, by `<prefix>/<state-dict name>`. */
function torchLayout(net: Network, prefix: string): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, v] of net.stateDict()) out[`${prefix}/${name}`] = tf.tidy(() => (v.rank === 4 ? v.transpose([3, 2, 0, 1]) : v).dataSync() as Float32Array);
  return out;
}

const close = (got: number, want: number, tol: number) => Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));

test('CutMix boxes: the uniforms the reference replays make the reference mask', () => {
  const s = fx.scenarios.cutmix;
  const [n, h, w] = shapeOf(s.mask);
  const masks = drawBoxMasks(replay(s.uniforms), { n: n!, height: h!, width: w! }, { prop_range: [0.5, 0.5], n_boxes: 1, random_aspect_ratio: true });
  assert.deepEqual(Array.from(masks), flatten(s.mask));
});

for (const backend of await backends()) {
  for (const method of ['cutmix', 'classmix'] as const) {
    test(`one mean-teacher iteration with ${method} matches the PyTorch reference [${backend}]`, async () => {
      await useBackend(backend);
      const s = fx.scenarios[method];
      tinyInit.weights = fx.init;
      batchSource.make = (name) => fixtureBatch(name);
      const c = assemble(
        {
          seed: 0,
          model: { type: 'tiny-gen', num_classes: fx.num_classes },
          optimizer: { type: 'sgd', momentum: 0.9, weight_decay: 5e-4 },
          scheduler: { type: 'constant', lr: fx.lr },
          dataset: { type: 'test-batches', num_classes: fx.num_classes },
          trainer: { type: 'mean_teacher', iterations: 10, batch_size: 2, ema_decay: 0.99, ema_warmup: method === 'classmix' },
          mix_mask: { type: method },
          losses: {
            seg: { type: 'ce2d' },
            consistency: { type: method === 'cutmix' ? 'prob_mse' : 'pseudo_label_ce', threshold: s.threshold },
          },
        },
        testPlugins,
      );
      const trainer = await c.get('trainer', 'trainer');
      const student = await c.get('model', 'model');
      const teacher = trainer.networks!().get('teacher')!;
      try {
        const { scalars } = await iterate(c, trainer, s.iteration, replay(s.uniforms));
        for (const [k, v] of Object.entries(s.scalars)) assert.ok(close(scalars[k]!, v, 1e-5), `${k} = ${scalars[k]} vs PyTorch ${v}`);
        const gotStudent = torchLayout(student, 'model');
        for (const [k, v] of Object.entries(s.student)) assertClose(gotStudent[k]!, v, 1e-4, `student ${k}`);
        // The EMA itself, exactly: float32 α·t₀ + (1−α)·s with this run's own updated student.
        const alpha = method === 'classmix' ? Math.min(1 - 1 / (s.iteration + 1), 0.99) : 0.99;
        const [a, b] = [Math.fround(alpha), Math.fround(1 - alpha)];
        const gotTeacher = torchLayout(teacher, 'trainer/teacher');
        for (const [k, v] of Object.entries(s.teacher)) {
          const t0 = fx.init[k.replace('trainer/teacher/', 'model/')]!.values;
          const sNew = gotStudent[k.replace('trainer/teacher/', 'model/')]!;
          const ema = Float32Array.from(t0, (t, i) => Math.fround(Math.fround(Math.fround(t) * a) + Math.fround(sNew[i]! * b)));
          assert.deepEqual(Array.from(gotTeacher[k]!), Array.from(ema), `teacher ${k} is the float32 EMA`);
          assertClose(gotTeacher[k]!, v, 1e-4, `teacher ${k} vs PyTorch`);
        }
      } finally {
        trainer.close?.();
        await c.dispose();
        tinyInit.weights = undefined;
      }
    });
  }
}
