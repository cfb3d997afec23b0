import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { AblateError, PrefetchingBatchStream, type Sample, type Rng } from '../../src/index.js';

/** A source whose samples record their index and the first draw of their rng, after a random delay. */
function source(size: number, bad: Set<number> = new Set(), calls: number[] = []) {
  return {
    size,
    async load(index: number, rng: Rng): Promise<Sample | null> {
      calls.push(index);
      await sleep(Math.floor(Math.random() * 3)); // completion order varies; results must not
      if (bad.has(index)) return null;
      const draw = rng.next();
      return { id: `s${index}`, height: 1, width: 2, image: Float32Array.from([index, draw, 0, 0, 0, 0]), label: Uint8Array.from([index % 5, 1]) };
    },
  };
}

const opts = { batchSize: 3, seed: 11, dropLast: false, withLabels: true, name: 'labeled' };

test('batches are a pure function of (seed, epoch, batch), whatever the prefetch depth', async () => {
  const a = new PrefetchingBatchStream(source(10), { ...opts, prefetch: 1 });
  const b = new PrefetchingBatchStream(source(10), { ...opts, prefetch: 6 });
  for (let i = 0; i < 9; i++) {
    const [x, y] = await Promise.all([a.next(), b.next()]);
    assert.deepEqual(x.ids, y.ids);
    assert.deepEqual(x.images, y.images);
    assert.deepEqual(x.labels, y.labels);
  }
  // 10 samples, batch 3: 4 batches per epoch (last one of 1); epochs reshuffle.
  const c = new PrefetchingBatchStream(source(10), opts);
  const sizes: number[] = [];
  const epochs: string[][] = [[], []];
  for (let i = 0; i < 8; i++) {
    const batch = await c.next();
    sizes.push(batch.shape[0]);
    epochs[Math.floor(i / 4)]!.push(...batch.ids);
  }
  assert.deepEqual(sizes, [3, 3, 3, 1, 3, 3, 3, 1]);
  assert.equal(new Set(epochs[0]).size, 10);
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.deepEqual(c.getState(), { epoch: 2, batch: 0, seed: 11 });
  const other = new PrefetchingBatchStream(source(10), { ...opts, seed: 12 });
  assert.notDeepEqual((await other.next()).ids, (await new PrefetchingBatchStream(source(10), opts).next()).ids);
  assert.throws(() => other.setState({ epoch: 0, batch: 0, seed: 11 }), (e: unknown) => e instanceof AblateError);
});

test('a skipped sample is replaced by a deterministic draw, so batches stay full and reproducible', async () => {
  const bad = new Set([0, 1, 2, 3]);
  const run = async () => {
    const s = new PrefetchingBatchStream(source(8, bad), { ...opts, batchSize: 4 });
    const out = [];
    for (let i = 0; i < 4; i++) out.push(await s.next());
    return out;
  };
  const [x, y] = await Promise.all([run(), run()]);
  for (const b of x) {
    assert.equal(b.shape[0], 4);
    assert.ok(b.ids.every((id) => !['s0', 's1', 's2', 's3'].includes(id)));
  }
  assert.deepEqual(x.map((b) => b.ids), y.map((b) => b.ids));
  const allBad = new PrefetchingBatchStream(source(3, new Set([0, 1, 2])), opts);
  await assert.rejects(allBad.next(), (e: unknown) => e instanceof AblateError && e.code === 'data.too-many-bad-samples');
});

test('unlabeled streams carry no labels; prefetch keeps batches in flight ahead of the consumer', async () => {
  const calls: number[] = [];
  const s = new PrefetchingBatchStream(source(30, new Set(), calls), { ...opts, withLabels: false, prefetch: 3 });
  const b = await s.next();
  assert.equal(b.labels, undefined);
  await sleep(30);
  assert.ok(calls.length >= 3 * 4, `only ${calls.length} samples requested: prefetch should have started 3 more batches`);
  s.close();
  await assert.rejects(s.next());
});
