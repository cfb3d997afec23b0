/** Builds a dataset plugin through the real plugin container, as an experiment would. */
import { PluginRegistry } from '../../src/plugin/registry.js';
import { ExperimentContainer } from '../../src/plugin/container.js';
import type { SegmentationDataset, Batch } from '../../src/index.js';
import { vocDataset, miniVocDataset, cityscapesDataset } from '../../plugins/datasets/index.js';
import * as transforms from '../../plugins/transforms/index.js';
import type { Logger } from '../../src/plugin/define.js';

export function dataRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  r.registerAll(
    [vocDataset, miniVocDataset, cityscapesDataset, transforms.randomScaleTransform, transforms.randomCropTransform, transforms.mirrorTransform, transforms.normalizeTransform, transforms.padTransform, transforms.resizeTransform],
    'builtin',
  );
  return r;
}

export async function buildDataset(dataset: Record<string, unknown>, opts: { runDir?: string; log: Logger; baseDir?: string }): Promise<SegmentationDataset> {
  const c = new ExperimentContainer({ registry: dataRegistry(), config: { seed: 0, dataset }, baseDir: opts.baseDir ?? '/', runDir: opts.runDir, log: opts.log });
  return c.get('dataset', 'dataset');
}

export async function take(stream: { next(): Promise<Batch> }, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) out.push(await stream.next());
  return out;
}
