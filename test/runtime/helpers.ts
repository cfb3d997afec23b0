/** Shared helpers for runtime/nn tests: run the same computation on several backends and compare. */
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/runtime/index.js';
import type { BackendName } from '../../src/runtime/index.js';
import { tf } from '../../src/runtime/tf.js';
import type { Tensor } from '../../src/runtime/tf.js';
import { quietLine } from '../support/log.js';
import { relErr, UNIT_SCALE } from '../support/numeric.js';

/** Backends usable in this process: cpu and wasm always, tensorflow when its addon loads. */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = ['cpu', 'wasm'];
  try {
    await selectBackend({ backend: 'tensorflow', log: quietLine });
    out.push('tensorflow');
  } catch {
    // not built on this machine: the wasm fallback is what runs
  }
  await selectBackend({ backend: 'cpu', log: quietLine });
  return out;
}

/** Runs `fn` on `backend`, returns its outputs as plain arrays; all tensors are disposed. */
export async function on(backend: BackendName, fn: () => Tensor | Tensor[]): Promise<Float32Array[]> {
  await selectBackend({ backend, log: quietLine });
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const data = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(outs);
  return data;
}

export function assertClose(a: Float32Array[], b: Float32Array[], tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: output count`);
  for (let i = 0; i < a.length; i++) {
    // Our kernels against tfjs's own: round-off near zero is not a discrepancy.
    const e = relErr(a[i]!, b[i]!, UNIT_SCALE);
    assert.ok(e <= tol, `${what}: output ${i} relative error ${e.toExponential(2)} > ${tol}`);
  }
}

/** Deterministic pseudo-random values in [-1, 1) (an LCG, so every backend sees the same data). */
export function seeded(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 31 - 1;
  }
  return tf.tensor(v, shape);
}
