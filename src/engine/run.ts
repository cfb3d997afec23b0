/**
 * The training engine: one resolved experiment → one run folder (run-dir.ts), one tracker run, a
 * loop over `trainer.step`, periodic evaluation and checkpoints. The engine owns everything around
 * an iteration (schedules, logging, NaN checks, Ctrl-C, progress, resume); the trainer owns the
 * iteration itself.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../runtime/tf.js';
import { AblateError } from '../errors.js';
import { ExperimentContainer } from '../plugin/container.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { stderrLogger, type Logger } from '../logger.js';
import type { Optimizer, RunStatus, SegmentationDataset, SegmentationModel, StepContext, Trainer, TrackerRun } from '../plugin/contracts.js';
import { systemTags } from '../tracking/provenance.js';
import { openTracking } from '../tracking/open.js';
import { BOOKKEEPING_METRICS } from '../tracking/metric-groups.js';
import { GpuSampler } from './gpu-metrics.js';
import { ensureBackend, runtimeInfo } from './backend.js';
import type { BackendSelection } from '../runtime/backend.js';
import { engineSettings, type EngineSettings } from './schema.js';
import { Progress } from './progress.js';
import { evaluate, type EvaluationResult } from './evaluate.js';
import { EVAL_SAMPLE_IMAGES } from './eval-samples.js';
import { RUN_LOG, SYSTEM_SAMPLE_SECONDS, SystemSampler, experimentDescription, withLogFile, networkSummaryMarkdown, summarizeNetworks } from './run-context.js';
import { listCheckpoints, restoreCheckpoint, saveCheckpoint, type CheckpointEntry } from './checkpoint.js';
import { checkOutputDir, openRunDir } from './run-dir.js';
import { describeChange, type ConfigChange } from './resume-changes.js';
import { pathHint } from '../config/file-paths.js';
import type { RunnableExperiment } from '../config/load.js';
import { flattenParams } from '../config/canonical.js';
import { assembleRun, evaluatedNetwork, metricsOf, type RunComponents } from './components.js';
import { SeededRng } from '../data/rng.js';
import { deriveSeed } from '../seeds.js';

/** The step generator's seed is derived like a slot's, under a name no slot can have. */
const STEP_RNG_SLOT = '@step-rng';

export interface RunOptions {
  /** Used when the resolved experiment carries no registry of its own. */
  registry?: PluginRegistry;
  /** A run folder (or one of its checkpoints) to continue from. */
  resume?: string;
  /** Abort = Ctrl-C: the current step finishes, a checkpoint is written, the run ends KILLED. */
  signal?: AbortSignal;
  /** Run name (sweep cells pass theirs); default: the experiment file's name. */
  runName?: string;
  /** The name the trackers and the progress display show (a sweep cell's short `adv-semi · 1/8 · s0`); default: runName. */
  displayName?: string;
  /** Params logged beside the flattened config (a sweep cell's coordinates, the variant axis included). */
  params?: Record<string, string>;
  /** Force this run folder instead of deriving one (sweep children, tests). */
  runDir?: string;
  parentRunId?: string;
  tags?: Record<string, string>;
  log?: Logger;
  /** Where progress lines go (default stderr). */
  progressStream?: NodeJS.WriteStream;
  /** Called after every iteration, e.g. to watch the live tensor count in tests. */
  onIteration?: (iteration: number, info: { numTensors: number; scalars: Record<string, number> }) => void;
}

export interface RunOutcome {
  status: Exclude<RunStatus, 'RUNNING'>;
  runDir: string;
  runId?: string;
  runName: string;
  /** Iterations completed. */
  iteration: number;
  /** Scalars of the last evaluation (every metric's, e.g. per-class ones as `<name>/<class>`). */
  metrics: Record<string, number>;
  /** Last checkpoint written or restored. */
  checkpoint?: string;
  error?: Error;
  seconds: number;
  itPerSec: number;
}


/** Which reported scalars count as losses for the NaN check. */
function lossKeys(scalars: Record<string, number>): string[] {
  const keys = Object.keys(scalars);
  const losses = keys.filter((k) => /loss/i.test(k));
  return losses.length > 0 ? losses : keys;
}

/** Every optimizer slot's learning rates, per parameter group (the core's and packs' slots alike). */
function lrScalars(optimizers: ReadonlyMap<string, Optimizer>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [slot, opt] of optimizers) {
    for (const [group, lr] of Object.entries(opt.learningRates())) out[slot === 'optimizer' ? `lr/${group}` : `lr/${slot}/${group}`] = lr;
  }
  return out;
}

/** The dataset's own description of what the run uses, as the tracker's dataset inputs. */
function logDatasetInputs(run: TrackerRun, dataset: SegmentationDataset): void {
  if (!run.logInput || !dataset.describeInputs) return;
  for (const input of dataset.describeInputs()) run.logInput(input);
}

/** Main entry: trains (or resumes) one experiment. User mistakes throw AblateError before the run starts. */
export async function runExperiment(resolved: RunnableExperiment, opts: RunOptions): Promise<RunOutcome> {
  const t0 = performance.now();
  const baseLog = opts.log ?? stderrLogger;
  const config = resolved.config;
  const settings = engineSettings(config);

  const registry = resolved.registry ?? opts.registry;
  if (!registry) throw new AblateError('run.no-registry', 'runExperiment needs a plugin registry (from loadExperiment or RunOptions.registry)');
  const opened = openRunDir(resolved, settings, { ...opts, registry, warn: (line) => baseLog.warn(line) });
  const { runDir, runName, resumeFrom } = opened;
  // From here on every log line is also kept in the run folder (run.log, an artifact at the end).
  const log = withLogFile(baseLog, path.join(runDir, RUN_LOG));
  if (!opts.runDir && !resumeFrom && checkOutputDir(path.resolve(settings.output.dir), resolved, settings)) {
    log.warn(`run folder ${runDir} is outside the project (${settings.output.allowOutside ? 'output.allow_outside: true' : 'output.dir given on the command line'})`);
  }

  // ── backend, container, tracker ──
  const backend = await ensureBackend(config, (line) => log.info(line));
  const container = new ExperimentContainer({ registry, config, baseDir: resolved.baseDir, runDir, log, runtime: runtimeInfo(config, backend), explainKey: (key, code) => pathHint(resolved.paths, key, code) });
  try {
    return await train({ resolved, opts, settings, log, t0, runDir, runName, resumeFrom, changes: opened.changes, configFile: opened.configFile, backend, container });
  } finally {
    // Every path, a failed build included, frees what was built: tfjs variable names are global to
    // the process, so a network left behind by one sweep cell breaks the next cell's identical one.
    await container.dispose();
  }
}

interface RunSetup {
  resolved: RunnableExperiment;
  opts: RunOptions;
  settings: EngineSettings;
  log: Logger;
  t0: number;
  runDir: string;
  runName: string;
  resumeFrom: CheckpointEntry | undefined;
  /** Optimisation values a resume changed, and the config file this part runs with. */
  changes: ConfigChange[];
  configFile: string;
  backend: BackendSelection;
  container: ExperimentContainer;
}

/** Tracking, components, the loop and the last checkpoint and evaluation of one run. */
async function train({ resolved, opts, settings, log, t0, runDir, runName, resumeFrom, changes, configFile, backend, container }: RunSetup): Promise<RunOutcome> {
  const config = resolved.config;
  const tracker = await openTracking(container, log);
  const shownName = opts.displayName ?? runName;
  const description = resolved.file ? experimentDescription(resolved.file) : undefined;
  const tags: Record<string, string> = {
    ...systemTags(process.cwd(), resolved.redactArgs),
    'ablate.config_hash': resolved.hash,
    'ablate.run_dir': runDir,
    'ablate.backend': backend.name,
    'ablate.tfjs_version': backend.details.tfjsVersion,
    ...(backend.tfVersion ? { 'ablate.tensorflow_version': backend.tfVersion } : {}),
    ...(resolved.file ? { 'ablate.experiment_file': path.relative(process.cwd(), path.resolve(resolved.file)) } : {}),
    ...(description ? { 'ablate.description': description } : {}),
    ...(resumeFrom ? { 'ablate.resumed_from_iteration': String(resumeFrom.iteration) } : {}),
    ...(changes.length > 0 ? { 'ablate.resume_changes': changes.map(describeChange).join('; ') } : {}),
    ...opts.tags,
  };
  // A resumed attempt continues the run's tracker run (the same record, the same run in each tracker).
  const trackerRun = await tracker.startRun({
    name: shownName,
    experiment: String(config.name ?? 'default'),
    // The recorded view: env values as their references (src/config/redact.ts).
    params: { ...flattenParams(resolved.recorded ?? config), ...opts.params },
    tags,
    runDir,
    ...(opts.parentRunId ? { parentRunId: opts.parentRunId } : {}),
    ...(resumeFrom ? { resume: { iteration: resumeFrom.iteration } } : {}),
  });
  trackerRun.logArtifact(configFile);
  if (resumeFrom && changes.length > 0) {
    log.warn(`resuming at iteration ${resumeFrom.iteration} with changed optimisation values: ${changes.map(describeChange).join('; ')} (recorded in run.json and the tag ablate.resume_changes)`);
  }

  const finish = async (outcome: Omit<RunOutcome, 'runDir' | 'runName' | 'runId' | 'seconds'>, trainer?: Trainer): Promise<RunOutcome> => {
    const result: RunOutcome = { ...outcome, runDir, runName, runId: trackerRun.id, seconds: (performance.now() - t0) / 1000 };
    writeFileSync(
      path.join(runDir, 'result.json'),
      `${JSON.stringify({ status: result.status, iteration: result.iteration, metrics: result.metrics, checkpoint: result.checkpoint, error: result.error?.message, seconds: result.seconds, itPerSec: result.itPerSec }, null, 2)}\n`,
    );
    if (result.error) trackerRun.setTags({ 'ablate.error': result.error.message.slice(0, 4000) });
    try {
      await trainer?.close?.();
    } catch (e) {
      log.warn(`closing the trainer failed: ${(e as Error).message}`);
    }
    if (existsSync(path.join(runDir, RUN_LOG))) trackerRun.logArtifact(path.join(runDir, RUN_LOG));
    await trackerRun.end(result.status);
    await tracker.close();
    return result;
  };

  // ── components ──
  let parts: RunComponents;
  let evaluated: SegmentationModel;
  let start = 0;
  let lastCheckpoint: string | undefined;
  // The run's seeded generator for what a step draws (StepContext.rng); its state is checkpointed.
  const rng = new SeededRng(deriveSeed(Number(config.seed ?? 0), STEP_RNG_SLOT));
  try {
    parts = await assembleRun(container);
    // Named now, so a wrong `evaluation.network` fails before training, not at the first evaluation.
    evaluated = await evaluatedNetwork(settings.evaluation.network, container, parts.trainerNetworks);
    // What is trained, in numbers: parameters per network, as tags and as model_summary.md.
    const summary = summarizeNetworks(new Map([...parts.networks, ...parts.trainerNetworks]));
    trackerRun.setTags(Object.fromEntries(summary.map((s) => [`ablate.parameters.${s.name}`, `${s.trainable} trainable, ${s.total} in all`])));
    const summaryFile = path.join(runDir, 'model_summary.md');
    writeFileSync(summaryFile, networkSummaryMarkdown(summary));
    trackerRun.logArtifact(summaryFile);
    if (resumeFrom) {
      const meta = restoreCheckpoint(resumeFrom, { ...parts, rng });
      start = meta.iteration;
      lastCheckpoint = resumeFrom.tensorsFile;
      log.info(`resuming ${runDir} at iteration ${start}`);
    }
    const dataset = await container.get('dataset', 'dataset');
    if (dataset.partition.file && existsSync(dataset.partition.file)) trackerRun.logArtifact(dataset.partition.file, 'data');
    logDatasetInputs(trackerRun, dataset);
  } catch (e) {
    // A trainer that was built releases what it owns (its networks, its streams) on this path too.
    const built = container.builtSlots().get('trainer') as Trainer | undefined;
    return finish({ status: 'FAILED', iteration: start, metrics: {}, error: e as Error, itPerSec: 0 }, built);
  }
  const { trainer, optimizers, schedulers } = parts;
  const stepContext: StepContext = { rng };

  const iterations = trainer.iterations;
  const progress = new Progress({
    total: iterations,
    start,
    mode: settings.progress.bar,
    logEvery: settings.progress.logEvery,
    label: shownName,
    ...(opts.progressStream ? { stream: opts.progressStream } : {}),
    write: (line) => log.info(line),
  });

  const writeCheckpoint = (iteration: number, reason: string) => {
    const entry = saveCheckpoint(runDir, { ...parts, rng }, { iteration, configHash: resolved.hash, seed: Number(config.seed ?? 0), reason }, settings.checkpoint.keepLast);
    lastCheckpoint = entry.tensorsFile;
    return entry;
  };

  let metrics: Record<string, number> = {};
  const runEvaluation = async (iteration: number): Promise<EvaluationResult | undefined> => {
    const metricComponents = await metricsOf(container);
    if (metricComponents.size === 0) return undefined;
    const dataset = (await container.get('dataset', 'dataset')) as SegmentationDataset;
    const artifactDir = path.join(runDir, 'eval', `iter-${String(iteration).padStart(7, '0')}`);
    mkdirSync(artifactDir, { recursive: true });
    const samples = { count: EVAL_SAMPLE_IMAGES, seed: Number(config.seed ?? 0), title: `${shownName} @${iteration}` };
    const r = await evaluate(evaluated, dataset, metricComponents, { limit: settings.evaluation.limit, artifactDir, samples });
    metrics = r.scalars;
    // One event per evaluation, with its duration: that is how trackers tell results from training values.
    trackerRun.logMetrics(iteration, { ...r.scalars, [BOOKKEEPING_METRICS.evalSeconds]: r.seconds, [BOOKKEEPING_METRICS.evalImages]: r.images });
    for (const a of r.artifacts) trackerRun.logArtifact(a, `eval/iter-${String(iteration).padStart(7, '0')}`);
    const headline = Object.entries(r.scalars).filter(([k]) => !k.includes('/')).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
    progress.note(`${shownName} eval @${iteration} (${r.images} images, ${r.seconds.toFixed(1)}s): ${headline}`);
    return r;
  };

  // ── the loop ──
  let it = start;
  let ema = 0;
  let tensorBaseline: number | undefined;
  let leakWarned = false;
  let status: RunOutcome['status'] = 'FINISHED';
  let error: Error | undefined;
  const loopStart = performance.now();
  // The machine's load, at the first iteration and then every SYSTEM_SAMPLE_SECONDS.
  const system = new SystemSampler();
  // GPU utilisation too where a GPU backend trains (nvidia-smi; absent elsewhere).
  const gpu = backend.name === 'tensorflow-gpu' ? new GpuSampler() : undefined;
  let lastSystemSample = -Infinity;
  try {
    for (; it < iterations; it++) {
      if (opts.signal?.aborted) {
        status = 'KILLED';
        break;
      }
      const ts = performance.now();
      for (const s of schedulers.values()) s.step(it);
      const { scalars } = await trainer.step(it, stepContext);
      const dt = (performance.now() - ts) / 1000;
      ema = ema === 0 ? dt : 0.9 * ema + 0.1 * dt;
      const itPerSec = ema > 0 ? 1 / ema : 0;

      const bad = lossKeys(scalars).find((k) => !Number.isFinite(scalars[k]));
      if (bad !== undefined) {
        const good = listCheckpoints(runDir).at(-1);
        throw new AblateError('run.non-finite-loss', `iteration ${it}: loss '${bad}' is ${scalars[bad]}; training stopped`, {
          exitCode: 1,
          hint: good
            ? `the last good checkpoint is ${path.relative(process.cwd(), good.tensorsFile)} (iteration ${good.iteration}); lower the learning rate and resume from it: ablate run --resume ${path.relative(process.cwd(), runDir) || '.'} --set optimizer.lr=<lower>`
            : 'no checkpoint was written before this; lower the learning rate or check the data',
        });
      }
      const lrs = lrScalars(optimizers);
      trackerRun.logMetrics(it, { ...scalars, ...lrs, [BOOKKEEPING_METRICS.itPerSec]: itPerSec });
      if (performance.now() - lastSystemSample >= SYSTEM_SAMPLE_SECONDS * 1000) {
        lastSystemSample = performance.now();
        trackerRun.logMetrics(it, { ...system.sample(), ...gpu?.sample() });
      }
      progress.update(it, scalars, itPerSec, optimizers.get('optimizer')?.learningRate);

      const done = it + 1;
      if (settings.checkpoint.every > 0 && done % settings.checkpoint.every === 0 && done < iterations) writeCheckpoint(done, 'periodic');
      if (settings.evaluation.every > 0 && done % settings.evaluation.every === 0 && done < iterations) await runEvaluation(done);

      const numTensors = tf.memory().numTensors;
      if (it - start === 1) tensorBaseline = numTensors;
      else if (tensorBaseline !== undefined && numTensors > tensorBaseline && !leakWarned && it - start >= 5) {
        leakWarned = true;
        progress.note(`warning: live tensors grew from ${tensorBaseline} to ${numTensors} by iteration ${it}; a component leaks memory`);
      }
      opts.onIteration?.(it, { numTensors, scalars });
      // Let signal handlers and I/O run between iterations even when a step never awaits.
      await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) {
        it = done;
        status = 'KILLED';
        break;
      }
    }
  } catch (e) {
    status = 'FAILED';
    error = e as Error;
  }
  progress.stop();
  const trained = it - start;
  const avgItPerSec = trained > 0 ? trained / ((performance.now() - loopStart) / 1000) : 0;

  try {
    if (status === 'KILLED') {
      const entry = writeCheckpoint(it, 'interrupted');
      log.info(`interrupted: checkpoint at iteration ${it} written to ${path.relative(process.cwd(), entry.tensorsFile)}; continue with --resume ${path.relative(process.cwd(), runDir)}`);
    } else if (status === 'FINISHED') {
      if (listCheckpoints(runDir).at(-1)?.iteration !== it) writeCheckpoint(it, 'final');
      if (settings.evaluation.atEnd) await runEvaluation(it);
      const dataset = (await container.get('dataset', 'dataset')) as SegmentationDataset;
      trackerRun.logMetrics(it, { [BOOKKEEPING_METRICS.badSamples]: dataset.badSampleCount(), [BOOKKEEPING_METRICS.itPerSecMean]: avgItPerSec });
    }
  } catch (e) {
    status = 'FAILED';
    error = e as Error;
  }
  await trackerRun.flush();
  return finish({ status, iteration: it, metrics, ...(lastCheckpoint ? { checkpoint: lastCheckpoint } : {}), ...(error ? { error } : {}), itPerSec: avgItPerSec }, trainer);
}

