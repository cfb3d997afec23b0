/**
 * `ablate eval`: scores a trained checkpoint with the experiment's metrics on its evaluation split,
 * outside training. Only what evaluation needs is built (model, dataset, metrics): the container
 * builds lazily, so no trainer, optimizer or tracker comes to life.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { ExperimentContainer, configuredSlots } from '../plugin/container.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Logger } from '../plugin/define.js';
import type { Metric, Network, SegmentationDataset, SegmentationModel } from '../plugin/contracts.js';
import { ensureBackend, runtimeInfo } from './backend.js';
import { engineSettings } from './schema.js';
import { restoreNetworks, type CheckpointEntry } from './checkpoint.js';
import { evaluate, type EvaluationResult } from './evaluate.js';
import type { RunnableExperiment } from '../config/load.js';
import { pathHint } from '../config/file-paths.js';

export interface EvalOptions {
  /** Used when the resolved experiment carries no registry of its own. */
  registry?: PluginRegistry;
  /** Overrides `evaluation.limit`. */
  limit?: number | null;
  /** Where metrics.json and metric artifacts go. */
  outDir: string;
  log: Logger;
  signal?: AbortSignal;
  onImage?: (done: number) => void;
}

export interface EvalOutcome extends EvaluationResult {
  checkpoint: string;
  iteration: number;
  outDir: string;
}

export async function evaluateCheckpoint(resolved: RunnableExperiment, checkpoint: CheckpointEntry, opts: EvalOptions): Promise<EvalOutcome> {
  const config = resolved.config;
  const backend = await ensureBackend(config, (l) => opts.log.info(l));
  mkdirSync(opts.outDir, { recursive: true });
  const registry = resolved.registry ?? opts.registry;
  if (!registry) throw new AblateError('eval.no-registry', 'evaluateCheckpoint needs a plugin registry');
  const container = new ExperimentContainer({ registry, config, baseDir: resolved.baseDir, runDir: path.dirname(path.dirname(checkpoint.tensorsFile)), log: opts.log, runtime: runtimeInfo(config, backend), explainKey: (key, code) => pathHint(resolved.paths, key, code) });
  try {
    const model = (await container.get('model', 'model')) as SegmentationModel;
    const dataset = (await container.get('dataset', 'dataset')) as SegmentationDataset;
    const metrics = new Map<string, Metric>();
    for (const [slot, b] of configuredSlots(config)) if (b.kind === 'metric') metrics.set(slot.replace(/^metrics\./, ''), await container.get(slot, 'metric'));
    if (metrics.size === 0) {
      throw new AblateError('eval.no-metrics', 'the experiment has no metrics to evaluate', { where: { key: 'metrics' }, hint: 'add e.g. `metrics: {miou: {type: miou}}` (or --set metrics.miou.type=miou)' });
    }
    const meta = restoreNetworks(checkpoint, new Map<string, Network>([['model', model]]));
    const limit = opts.limit !== undefined ? opts.limit : engineSettings(config).evaluation.limit;
    const r = await evaluate(model, dataset, metrics, { limit, artifactDir: opts.outDir, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onImage ? { onImage: opts.onImage } : {}) });
    const outcome: EvalOutcome = { ...r, checkpoint: checkpoint.tensorsFile, iteration: meta.iteration, outDir: opts.outDir };
    writeFileSync(
      path.join(opts.outDir, 'metrics.json'),
      `${JSON.stringify({ checkpoint: checkpoint.tensorsFile, iteration: meta.iteration, images: r.images, seconds: r.seconds, scalars: r.scalars, artifacts: r.artifacts }, null, 2)}\n`,
    );
    return outcome;
  } finally {
    await container.dispose();
  }
}
