/**
 * `ablate eval`: scores a trained checkpoint with the experiment's metrics on its evaluation split,
 * outside training. Only what evaluation needs is built (the network, dataset, metrics): the
 * container builds lazily, so no optimizer or tracker comes to life, and the trainer only when the
 * network scored is one of its own.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { ExperimentContainer } from '../plugin/container.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Logger } from '../plugin/define.js';
import type { Network, SegmentationDataset, Trainer } from '../plugin/contracts.js';
import { ensureBackend, runtimeInfo } from './backend.js';
import { evaluatedNetwork, metricsOf, trainerNetworksOf } from './components.js';
import { engineSettings } from './schema.js';
import { restoreNetworks, type CheckpointEntry } from './checkpoint.js';
import { evaluate, type EvaluationResult } from './evaluate.js';
import { EVAL_SAMPLE_IMAGES } from './eval-samples.js';
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
  /** Overrides `evaluation.network`: a slot holding a network or one of the trainer's networks. */
  network?: string;
}

export interface EvalOutcome extends EvaluationResult {
  checkpoint: string;
  iteration: number;
  /** The network scored. */
  network: string;
  outDir: string;
}

export async function evaluateCheckpoint(resolved: RunnableExperiment, checkpoint: CheckpointEntry, opts: EvalOptions): Promise<EvalOutcome> {
  const config = resolved.config;
  const selection = await ensureBackend(config, (l) => opts.log.info(l));
  mkdirSync(opts.outDir, { recursive: true });
  const registry = resolved.registry ?? opts.registry;
  if (!registry) throw new AblateError('eval.no-registry', 'evaluateCheckpoint needs a plugin registry');
  const container = new ExperimentContainer({
    registry,
    config,
    baseDir: resolved.baseDir,
    runDir: path.dirname(path.dirname(checkpoint.tensorsFile)),
    log: opts.log,
    explainKey: (key, code) => pathHint(resolved.paths, key, code),
    runtime: runtimeInfo(config, selection),
  });
  const settings = engineSettings(config);
  const name = opts.network ?? settings.evaluation.network;
  let trainer: Trainer | undefined;
  try {
    // A trainer's own network exists only once the trainer is built; a slot's needs no trainer.
    let trainerNetworks: ReadonlyMap<string, Network> = new Map();
    if (!container.has(name)) {
      trainer = await container.get('trainer', 'trainer');
      trainerNetworks = trainerNetworksOf(trainer, container);
    }
    const network = await evaluatedNetwork(name, container, trainerNetworks, opts.network ? '--network' : 'evaluation.network');
    const dataset = (await container.get('dataset', 'dataset')) as SegmentationDataset;
    const metrics = await metricsOf(container);
    if (metrics.size === 0) {
      throw new AblateError('eval.no-metrics', 'the experiment has no metrics to evaluate', { where: { key: 'metrics' }, hint: 'add e.g. `metrics: {acc: {type: <a metric plugin>}}` (or --set metrics.<name>.type=<type>)' });
    }
    const chosen = new Map<string, Network>([[name, network]]);
    const meta = restoreNetworks(checkpoint, trainer ? { networks: new Map(), trainerNetworks: chosen } : { networks: chosen });
    const limit = opts.limit !== undefined ? opts.limit : settings.evaluation.limit;
    const samples = { count: EVAL_SAMPLE_IMAGES, seed: Number(resolved.config.seed ?? 0), title: `${name} @${meta.iteration}` };
    const r = await evaluate(network, dataset, metrics, { limit, artifactDir: opts.outDir, samples, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onImage ? { onImage: opts.onImage } : {}) });
    const outcome: EvalOutcome = { ...r, checkpoint: checkpoint.tensorsFile, iteration: meta.iteration, network: name, outDir: opts.outDir };
    writeFileSync(
      path.join(opts.outDir, 'metrics.json'),
      `${JSON.stringify({ checkpoint: checkpoint.tensorsFile, iteration: meta.iteration, network: name, images: r.images, seconds: r.seconds, scalars: r.scalars, artifacts: r.artifacts }, null, 2)}\n`,
    );
    return outcome;
  } finally {
    await trainer?.close?.();
    await container.dispose();
  }
}
