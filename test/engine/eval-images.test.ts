// What a researcher looks at after an evaluation: the sample grid (image | ground truth |
// prediction) drawn by the engine and logged with the run, the same images at every evaluation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runExperiment } from '../../src/engine/run.js';
import { EvalSamples } from '../../src/engine/eval-samples.js';
import { labelColourTable } from '../../src/images/index.js';
import type { EvalSample, SegmentationDataset } from '../../src/index.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';
import { quietLog } from '../support/log.js';

test('every evaluation writes samples.png (image | ground truth | prediction in class colours) and logs it', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-eval-images-'));
  const exp = tinyExperiment(out, { evaluation: { every: 6 }, checkpoint: { every: 0 } });
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quietLog, runName: 'tiny' });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  const files = ['iter-0000006', 'iter-0000012'].map((d) => path.join(r.runDir, 'eval', d, 'samples.png'));
  for (const f of files) assert.ok(existsSync(f), f);
  const logged = readFileSync(path.join(r.runDir, 'tracking', 'record.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"artifact"') && l.includes('samples.png'));
  assert.equal(logged.length, 2, 'both grids are artifacts of the run');

  // 3 evaluation images of 6×5 (tiny data), tiles 160 px high: header, 3 rows, a legend.
  const img = sharp(files[1]!);
  const meta = await img.metadata();
  assert.equal(meta.format, 'png');
  const rowTop = (i: number) => 28 + i * (160 + 6);
  assert.ok(meta.height! > rowTop(3), `${meta.width}×${meta.height}`);
  // The ground-truth column holds label colours only (nearest-neighbour scaling keeps them exact).
  const colours = labelColourTable(undefined, 3, 255);
  const allowed = new Set([0, 1, 2, 255].map((v) => `${colours[3 * v]},${colours[3 * v + 1]},${colours[3 * v + 2]}`));
  const tileWidth = Math.round((5 * 160) / 6);
  const colWidth = Math.max(160, tileWidth);
  for (const col of [1, 2]) {
    const { data, info } = await sharp(files[1]!).extract({ left: 120 + col * (colWidth + 6), top: rowTop(0), width: tileWidth, height: 160 }).raw().toBuffer({ resolveWithObject: true });
    const seen = new Set<string>();
    for (let i = 0; i < data.length; i += info.channels) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
    for (const c of seen) assert.ok(allowed.has(c), `column ${col} pixel ${c} is a label colour`);
  }
});

test('the sample is fixed by the seed, whatever order the images come in', () => {
  const dataset = { numClasses: 2, ignoreIndex: 255, classNames: ['a', 'b'] } as unknown as SegmentationDataset;
  const sample = (id: string): EvalSample => ({ id, shape: [1, 2, 2, 3], image: new Float32Array(12), label: new Uint8Array(4), height: 2, width: 2 });
  const ids = Array.from({ length: 40 }, (_, i) => `img-${i}`);
  const chosen = (order: string[], seed: number) => {
    const s = new EvalSamples(dataset, 5, seed);
    for (const id of order) s.offer(sample(id), new Int32Array(4), new Uint8Array(4));
    return (s as unknown as { kept: { row: { id: string } }[] }).kept.map((k) => k.row.id).sort();
  };
  const forward = chosen(ids, 0);
  assert.equal(forward.length, 5);
  assert.deepEqual(chosen([...ids].reverse(), 0), forward);
  assert.notDeepEqual(chosen(ids, 1), forward, 'another seed shows other images');
});
