/**
 * PyTorch parity for the deeplabv2 and fcdisc plugins on every backend that loads here.
 * Fixtures come from tools/make_model_fixtures.py (float64 PyTorch reference): the weights are
 * loaded through src/weights (so the name and layout mapping is under test too), then the
 * training-mode forward, the gradients of sum(output·R) w.r.t. the input and every parameter,
 * the BN running statistics after that step, and the eval-mode forward are compared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, weights } from '../../src/index.js';
import type { Network, Tensor4D, Scalar, Variable } from '../../src/index.js';
import { selectBackend, type BackendName } from '../../src/runtime/index.js';
import { DeepLabV2, type DeepLabV2Options } from '../../plugins/models/deeplabv2/index.js';
import { FcDiscriminator } from '../../plugins/methods/adversarial/fcdisc.js';
import { relErr } from '../support/numeric.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'parity');
const FWD_TOL = 1e-4;
const GRAD_TOL = 1e-3;

interface Case {
  file: string;
  build(cfg: Record<string, unknown>): Network & { apply(x: Tensor4D, o: { training: boolean }): Tensor4D };
}

const CASES: Case[] = [
  ...(['bilinear', 'transposed'] as const).map((up) => ({
    file: `deeplabv2_r18_${up}.safetensors`,
    build: (cfg: Record<string, unknown>) =>
      new DeepLabV2(
        {
          ...(cfg as unknown as Pick<DeepLabV2Options, 'depth' | 'base_width' | 'num_classes' | 'rates' | 'upsampling'>),
          bn: { affine: 'trainable', statistics: 'batch', momentum: 0.1, eps: 1e-5 },
          pretrained: null,
          pretrained_strip_prefix: '',
          classifier_lr_multiplier: 10,
        },
        'model',
        0,
      ),
  })),
  {
    file: 'fcdisc.safetensors',
    build: (cfg) => new FcDiscriminator({ ndf: cfg['ndf'] as number, num_classes: cfg['num_classes'] as number, leaky_slope: cfg['leaky_slope'] as number, lr_multiplier: 1 }, 'discriminator', 0),
  },
];

async function backends(): Promise<BackendName[]> {
  const out: BackendName[] = ['cpu', 'wasm'];
  try {
    await selectBackend({ backend: 'tensorflow', deterministic: true, log: () => {} });
    out.push('tensorflow');
  } catch {
    // addon not built here: cpu and wasm still run
  }
  return out;
}

const available = await backends();

for (const c of CASES) {
  const fixture = weights.readSafetensors(path.join(FIXTURES, c.file));
  const cfg = JSON.parse(fixture.metadata['config'] ?? '{}') as Record<string, unknown>;
  const get = (name: string) => {
    const t = fixture.tensors.get(name);
    assert.ok(t, `fixture ${c.file} lacks ${name}`);
    return t;
  };
  const stateOnly = new Map([...fixture.tensors].filter(([n]) => !n.startsWith('fixture.')));

  for (const backend of available) {
    test(`${c.file} matches PyTorch on ${backend}`, async () => {
      await selectBackend({ backend, deterministic: true, log: () => {} });
      const net = c.build(cfg);
      try {
        const report = weights.loadStateDict(net.stateDict(), stateOnly);
        assert.deepEqual(report.missing, [], 'missing');
        assert.deepEqual(report.unexpected, [], 'unexpected');
        assert.deepEqual(report.mismatched, [], 'mismatched');
        assert.ok(report.ignored.length === 0 || report.ignored.every((n) => n.endsWith('num_batches_tracked')));

        const input = get('fixture.input');
        const weighting = get('fixture.weighting');
        const x = tf.variable(tf.tensor(input.data, input.shape), true, `fixture/input/${backend}/${c.file}`);
        const r = tf.tensor(weighting.data, weighting.shape);
        const trainable = net.parameterGroups().flatMap((g) => g.variables);
        let out: Tensor4D | undefined;
        const { value, grads } = tf.variableGrads(() => {
          out = tf.keep(net.apply(x as unknown as Tensor4D, { training: true }));
          return tf.sum(tf.mul(out, r)) as Scalar;
        }, [...trainable, x]);

        const outErr = relErr(await out!.data(), get('fixture.output_train').data);
        assert.ok(outErr <= FWD_TOL, `training forward: relative error ${outErr.toExponential(2)} > ${FWD_TOL}`);
        const lossRef = get('fixture.loss').data[0]!;
        assert.ok(Math.abs((await value.data())[0]! - lossRef) <= 1e-3 * Math.max(1, Math.abs(lossRef)), 'loss');

        const gx = grads[x.name];
        assert.ok(gx, 'no input gradient');
        const gxErr = relErr(await gx.data(), get('fixture.grad.input').data);
        assert.ok(gxErr <= GRAD_TOL, `d loss/d input: relative error ${gxErr.toExponential(2)} > ${GRAD_TOL}`);

        const state = net.stateDict();
        let checked = 0;
        for (const [name, v] of state) {
          const ref = fixture.tensors.get(`fixture.grad.${name}`);
          if (!ref) continue; // running statistics
          const g = grads[v.name];
          assert.ok(g, `no gradient for ${name}`);
          const e = relErr(await g.data(), weights.torchToTfjs(ref).data);
          assert.ok(e <= GRAD_TOL, `d loss/d ${name}: relative error ${e.toExponential(2)} > ${GRAD_TOL}`);
          checked++;
        }
        assert.equal(checked, trainable.length, 'every trainable parameter has a reference gradient');

        for (const [name, v] of state) {
          const ref = fixture.tensors.get(`fixture.after.${name}`);
          if (!ref) continue;
          const e = relErr(await (v as Variable).data(), ref.data);
          assert.ok(e <= FWD_TOL, `${name} after one training forward: relative error ${e.toExponential(2)}`);
        }

        const evalOut = net.apply(x as unknown as Tensor4D, { training: false });
        const evalErr = relErr(await evalOut.data(), get('fixture.output_eval').data);
        assert.ok(evalErr <= FWD_TOL, `eval forward: relative error ${evalErr.toExponential(2)} > ${FWD_TOL}`);
        tf.dispose([x, r, value, out!, evalOut, ...Object.values(grads)]);
      } finally {
        net.dispose();
      }
    });
  }
}
