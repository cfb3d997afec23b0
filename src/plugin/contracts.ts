/**
 * What each kind of component promises to the rest of the system. The engine and the trainers talk
 * to components only through these interfaces, so a user's plugin is a drop-in replacement for a
 * built-in one.
 *
 * Conventions:
 * - Images are NHWC float32; label maps are N×H×W int32 with `ignoreIndex` (255) for void pixels.
 * - Data components know no tensors: they produce typed arrays, and the trainer turns a batch
 *   into tensors (so prefetching never holds engine memory and data code is testable without tf).
 * - Every tfjs variable has a globally unique name `<slot>/<state-dict name>`, e.g.
 *   `model/layer1.0.conv1.weight`, so optimizers key their state by variable name and checkpoints
 *   and PyTorch weight files line up.
 */
import type { Tensor, Tensor3D, Tensor4D, Scalar, Variable, NamedTensorMap } from '../runtime/tf.js';

// ─── networks ────────────────────────────────────────────────────────────────────────────────

/** A set of trainable variables optimised with one learning-rate multiplier (e.g. 10× classifier). */
export interface ParameterGroup {
  name: string;
  variables: Variable[];
  /** Multiplies the scheduler's base learning rate for this group. */
  lrMultiplier: number;
  /** Overrides the optimizer's weight decay for this group when set (e.g. 0 for biases). */
  weightDecay?: number;
}

/** Anything with weights: segmentation models and a method's extra networks (a pack's own kinds, a trainer's EMA teacher). */
export interface Network {
  /** Groups of trainable variables; frozen variables (e.g. frozen BN affine) are not in any group. */
  parameterGroups(): ParameterGroup[];
  /**
   * Every tensor that defines the network, trainable or not (weights, BN running statistics),
   * keyed by PyTorch-style state-dict name (without the slot prefix). Used for checkpoints and
   * weight import; the returned tensors are the live variables, do not dispose them.
   */
  stateDict(): Map<string, Variable>;
  /** Releases every variable. */
  dispose(): void;
}

export interface SegmentationModel extends Network {
  readonly numClasses: number;
  /**
   * Class logits at the input's height and width, N×H×W×C. `training` selects the batch-norm
   * statistics policy configured for training (batch or frozen); evaluation always uses running
   * statistics.
   */
  apply(images: Tensor4D, opts: { training: boolean }): Tensor4D;
}

// ─── optimisation ────────────────────────────────────────────────────────────────────────────

export interface Optimizer {
  /** Base learning rate before group multipliers; schedulers set it. */
  learningRate: number;
  /** The effective learning rate of every parameter group, by group name. */
  learningRates(): Record<string, number>;
  /**
   * Applies one update. `grads` is keyed by variable name, as returned by `tf.variableGrads`;
   * variables without a gradient are left alone. Does not dispose `grads`.
   */
  applyGradients(grads: NamedTensorMap): void;
  /** Slot state (momentum buffers, Adam moments, step count) for checkpoints. Copies or live tensors: the engine reads them inside `tf.tidy`, which frees fresh copies and leaves kept tensors alone. */
  getState(): NamedTensorMap;
  /** Copies the values into the optimizer's own slots; the caller disposes `state` afterwards. */
  setState(state: NamedTensorMap): void;
  dispose(): void;
}

export interface Scheduler {
  /** The base learning rate for a 0-based iteration; pure, so resume needs no scheduler state. */
  learningRateAt(iteration: number): number;
  /** Sets the optimizer's learning rate for `iteration` and returns it. */
  step(iteration: number): number;
}

// ─── losses and metrics ──────────────────────────────────────────────────────────────────────

/**
 * Loss inputs are named so that one contract serves every loss. Conventional names:
 * `logits` (N×H×W×C), `labels` (N×H×W int32), `target` (number), `ignoreMask` (N×H×W bool/0-1:
 * 1 = ignore); a method's own losses name theirs (e.g. a critic network's per-pixel logits).
 */
export type LossInputs = Readonly<Record<string, Tensor | number | undefined>>;

export interface LossOutput {
  /** Scalar to minimise (already weighted by nothing: trainers apply λ). */
  loss: Scalar;
  /** Extra scalars worth logging, e.g. the share of pixels a masked loss kept. */
  stats?: Record<string, Scalar | number>;
  /**
   * 1 when the loss has something to learn from, 0 when not (e.g. no pixel passed a threshold), as
   * a tensor: trainers can act on it without reading it back, so the step stays compilable.
   */
  signal?: Scalar;
  /** The same as a JavaScript boolean, for losses that read their values anyway (keeps the step eager). */
  hasSignal?: boolean;
}

export interface Loss {
  compute(inputs: LossInputs): LossOutput;
}

export interface MetricResult {
  /** Scalars to log, e.g. a mean score and per-class ones (`<name>/<class>`). */
  scalars: Record<string, number>;
  /** Files worth keeping with the run (confusion matrix CSV …), written into `dir`. */
  artifacts?: string[];
}

export interface Metric {
  reset(): void;
  /** `predicted` and `truth` are H×W (or N×H×W) class index maps of equal length. */
  update(predicted: ArrayLike<number>, truth: ArrayLike<number>): void;
  /** May be asynchronous (artifacts such as images are written before it resolves). */
  compute(opts?: { artifactDir?: string; classNames?: readonly string[] }): MetricResult | Promise<MetricResult>;
}

// ─── data ────────────────────────────────────────────────────────────────────────────────────

/** One decoded example, HWC float32 in 0..255 before normalisation. */
export interface Sample {
  id: string;
  height: number;
  width: number;
  /** H×W×3, channel order RGB unless a transform reorders it. */
  image: Float32Array;
  /** H×W class indices, `ignoreIndex` for void; absent for unlabeled data. */
  label?: Uint8Array;
}

/** A deterministic random source handed to transforms (seeded per sample by the loader). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer uniform in [lo, hi). */
  int(lo: number, hi: number): number;
}

export interface Transform {
  apply(sample: Sample, rng: Rng): Sample;
}

export interface Batch {
  ids: string[];
  /** [N, H, W, 3] */
  shape: [number, number, number, number];
  images: Float32Array;
  /** N×H×W int32 labels, when the stream is labeled. */
  labels?: Int32Array;
}

/**
 * How a trainer asks for one of its training streams. The trainer names its streams (the name is
 * what its checkpoints key the stream's position by) and says which part of the data set's
 * labeled/unlabeled partition each one draws from.
 */
export interface StreamOptions {
  /** The part of the partition drawn from; `labeled` batches carry labels, `unlabeled` ones do not. */
  subset: 'labeled' | 'unlabeled';
  batchSize: number;
  /** The stream's own seed: its order and augmentation are a pure function of it. */
  seed: number;
  /**
   * Rescale samples until they cover the training crop instead of padding them, so labels carry no
   * padding void (e.g. real label maps shown to a critic network). A data set may decline (it then
   * serves the ordinary pipeline, as its options say).
   */
  unpadded?: boolean;
}

/** An endless, reshuffling, resumable batch source. */
export interface BatchStream {
  next(): Promise<Batch>;
  /** Position within the current epoch, epoch number and shuffle seed: enough to resume exactly. */
  getState(): Record<string, number>;
  setState(state: Record<string, number>): void;
  close(): void;
}

/** A whole evaluation image, padded for the network, with the size to crop predictions back to. */
export interface EvalSample {
  id: string;
  /** [1, H, W, 3] after evaluation transforms. */
  shape: [number, number, number, number];
  image: Float32Array;
  label: Uint8Array;
  /** Original height and width: predictions are cropped to this before scoring. */
  height: number;
  width: number;
}

export interface SegmentationDataset {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly classNames: readonly string[];
  /**
   * Colours for showing class maps (evaluation sample images): RGB of label value i at 3i, void
   * (`ignoreIndex`) included, as the data set's own label images colour them. Without them,
   * distinct hues are chosen.
   */
  readonly classColours?: Uint8Array;
  /** The labeled/unlabeled partition actually used; its file is logged with the run. */
  readonly partition: { labeled: readonly string[]; unlabeled: readonly string[]; file?: string };
  /** The trainer's stream `name` (for messages): batched, augmented and shuffled from `opts.seed`. */
  stream(name: string, opts: StreamOptions): BatchStream;
  /** The evaluation split, one whole image at a time. */
  evaluation(opts?: { limit?: number }): AsyncIterable<EvalSample>;
  /** Samples skipped under `on_bad_sample: skip`, for the run's metrics. */
  badSampleCount(): number;
  /** What the run trains (and evaluates) on, as the trackers' dataset inputs. */
  describeInputs?(): DatasetInput[];
}

// ─── training ────────────────────────────────────────────────────────────────────────────────

export interface StepResult {
  /** Scalars to log at this iteration: losses, kept-pixel ratio, … */
  scalars: Record<string, number>;
}

/** What the engine hands every step besides its number. */
export interface StepContext {
  /**
   * The run's seeded generator (seed derived from the experiment seed). Draw a step's random
   * numbers (a crop box, a mixing ratio) from it in JavaScript, outside any compiled function, and
   * feed them in as inputs: the engine checkpoints its state, so a resumed run draws what the
   * uninterrupted run would have.
   */
  readonly rng: Rng;
}

/**
 * One training algorithm. The engine owns the loop (iterations, schedules and their lr/* scalars,
 * evaluation, checkpoints, progress, NaN checks, Ctrl-C); a trainer owns what happens inside one
 * iteration.
 */
export interface Trainer {
  readonly iterations: number;
  /** Performs iteration `iteration` (0-based). Must leave no new live tensors behind. */
  step(iteration: number, ctx: StepContext): Promise<StepResult>;
  /**
   * Optional: networks the trainer builds and owns (an EMA teacher), by name. The engine
   * checkpoints and restores them with the run (tensors `trainer/<name>/<state-dict name>`), and
   * `evaluation.network: <name>` scores one of them. Names must differ from the experiment's slots.
   * The trainer releases them in `close()`.
   */
  networks?(): ReadonlyMap<string, Network>;
  /** Extra state to checkpoint beyond the components' own (e.g. stream positions). */
  getState(): Record<string, unknown>;
  setState(state: Record<string, unknown>): void;
  /** Optional: releases what the trainer opened (data streams, prefetchers) when the run ends. */
  close?(): void | Promise<void>;
}

// ─── tracking ────────────────────────────────────────────────────────────────────────────────
//
// The engine logs to a TrackerRun. The core writes every call to the run's local record first
// (`<runDir>/tracking/record.jsonl`, the outbox) and then hands the recorded event to each
// configured sink (`trackers:` list: a tracking server, the console, a user's own), so a sink
// that is slow or down never loses anything: it can catch up from the record, or replay it later
// with `ablate sync --to <type>`.

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface RunInfo {
  /** Human-readable run name (for sweep cells, derived from the cell's diff). */
  name: string;
  /** The experiment the run belongs to (the config's `name`). */
  experiment: string;
  /** Flattened resolved config, dotted keys. */
  params: Record<string, string>;
  tags: Record<string, string>;
  /** The local folder of this run: the record, checkpoints and artifacts live here. */
  runDir: string;
  /** Set for a sweep cell: the tracker run id of the sweep's parent run. */
  parentRunId?: string;
  /**
   * Continue the run already recorded in `runDir` instead of starting one (a resumed attempt, or
   * a sweep's parent ended by another process): the record gets a `resume` event and every sink
   * continues the same run. `iteration` is the checkpoint the attempt restarts from.
   */
  resume?: {
    iteration?: number;
    /** The earlier writer let go of the record and the caller holds the lock that orders its writers: that process may still be alive. */
    released?: boolean;
  };
}

export interface DatasetInput {
  name: string;
  digest: string;
  source: string;
  context: 'training' | 'evaluation';
  profile?: Record<string, unknown>;
}

/** What the engine logs to; every call is in the local record before it returns. */
export interface TrackerRun {
  /** The client run id (32 hex chars), the same in the record and in every sink. */
  readonly id: string;
  logParams(params: Record<string, string>): void;
  logMetrics(step: number, metrics: Record<string, number>, timestampMs?: number): void;
  setTags(tags: Record<string, string>): void;
  /** Copies a file into the run's artifacts, under `artifactPath` (a folder) when given. */
  logArtifact(localPath: string, artifactPath?: string): void;
  logInput?(input: DatasetInput): void;
  /** Waits until everything logged so far is durable (locally) and delivered where possible. */
  flush(): Promise<void>;
  end(status: Exclude<RunStatus, 'RUNNING'>): Promise<void>;
}

// The record's events, one JSON object per line of record.jsonl.
export interface StartEvent {
  t: 'start';
  /** Format version of the record. */
  v: number;
  /** Client run id (32 hex chars). */
  id: string;
  name: string;
  experiment: string;
  /** Client run id of the sweep's parent run. */
  parent?: string;
  time: number;
  pid: number;
  host: string;
}
export interface ParamsEvent { t: 'params'; p: Record<string, string> }
export interface TagsEvent { t: 'tags'; tags: Record<string, string> }
/** Metric values are numbers, or the strings 'NaN'/'Infinity'/'-Infinity' (JSON has no such numbers). */
export interface MetricsEvent { t: 'metrics'; step: number; ts: number; m: Record<string, number | string> }
/** `file` is relative to `<runDir>/tracking/artifacts`, and is the artifact's path in the run. */
export interface ArtifactEvent { t: 'artifact'; file: string }
export interface InputEvent { t: 'input'; input: DatasetInput }
export interface EndEvent { t: 'end'; status: Exclude<RunStatus, 'RUNNING'>; time: number }
/**
 * Another process continues the run (a resumed attempt from the checkpoint at `iteration`): the
 * run is RUNNING again, and `pid`/`host` name its new writer.
 */
export interface ResumeEvent { t: 'resume'; time: number; pid: number; host: string; iteration?: number }
/**
 * Points a resumed attempt computed again for (key, step) pairs the record already holds (the
 * iterations between its checkpoint and the interruption). The record's first point stays the
 * run's: kept here, never shipped as metrics, so no metric has two points at one step.
 */
export interface RecomputedEvent { t: 'recomputed'; step: number; ts: number; m: Record<string, number | string> }
export type RecordEvent = StartEvent | ParamsEvent | TagsEvent | MetricsEvent | ArtifactEvent | InputEvent | EndEvent | ResumeEvent | RecomputedEvent;

/** A run as a sink is told of it: the run's info plus its client run id. */
export interface SinkRunInfo extends RunInfo {
  readonly id: string;
}

/** One run inside a sink. Each call comes after the event is in the record. */
export interface SinkRun {
  /** Every event of the record, in order, from the run's `start` on (sent once each); a continued run's from its `resume` event on. */
  event?(event: RecordEvent): void;
  /** Delivers what was recorded so far, as far as the sink can within its own time limit. */
  flush?(): Promise<void>;
  /** The `end` event was recorded: deliver the rest and let go of the run. */
  end?(): Promise<void>;
}

/** The outcome of replaying one run folder's record into a sink. */
export interface SinkSyncResult {
  outcome: 'synced' | 'up-to-date';
  /** Where it went, for the user: e.g. the destination's run id. */
  detail?: string;
  requests?: number;
}

/** A run read back from a sink (e.g. a tracking server), as `ablate report` needs it. */
export interface TrackedRun {
  id: string;
  name: string;
  /** The parent's run id, as the sink names it. */
  parent?: string;
  status: string;
  startTime: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Per metric key: its whole history when `history(key)` asked for it, else at least the last point. */
  metrics: Record<string, { step: number; timestamp: number; value: number }[]>;
}

/**
 * A destination of tracked runs (kind `tracker`, listed under `trackers:`). It must never make a
 * run fail: an unreachable destination is a warning, and the record keeps everything for `sync`.
 */
export interface TrackingSink {
  startRun(info: SinkRunInfo): Promise<SinkRun>;
  /** Called once after every run of the process ended (e.g. stop background work). */
  close?(): Promise<void>;
  /**
   * Replays one finished run folder's record (`ablate sync --to <type>`). Called parents first;
   * safe to repeat. Throws when the run could not be delivered.
   */
  sync?(runDir: string): Promise<SinkSyncResult>;
  /**
   * Reads runs back (`ablate report` on a target that is not a folder): `target` names what to
   * read in the sink's own terms (an experiment, or a parent run: then the parent and its children).
   */
  readRuns?(target: string, opts: { history(metricKey: string): boolean }): Promise<{ title: string; runs: TrackedRun[] }>;
}

// ─── launching ───────────────────────────────────────────────────────────────────────────────

export interface LaunchCell {
  name: string;
  /** Path of the cell's fully resolved experiment file, runnable with `ablate run`. */
  resolvedFile: string;
  /** The run folder the cell must use: its `result.json` there is how the sweep learns the outcome. */
  runDir: string;
  /** Extra `ablate run` arguments for a child process (run name, parent run id, base folder, resume). */
  runArgs?: readonly string[];
  /** The cell's resolved launcher options (a cluster launcher groups cells by their resources). */
  launcherOptions?: Readonly<Record<string, unknown>>;
}

export interface LaunchResult {
  name: string;
  status: Exclude<RunStatus, 'RUNNING'>;
  runDir?: string;
  error?: string;
}

/**
 * How a launcher finds a cell again, in this process or a later one (`ablate sweep status`,
 * `cancel`): saved in the sweep folder's `launch.json`, so it must be plain JSON.
 */
export interface LaunchHandle {
  name: string;
  /** The launcher's id for the cell, e.g. a Slurm `<array job id>_<task>`. */
  id: string;
  /** The file the cell's output goes to, when the launcher knows it. */
  log?: string;
}

export interface LaunchContext {
  /** The sweep folder: a launcher keeps its own files (job scripts, logs) under `<sweepDir>/launch/`. */
  sweepDir: string;
  /**
   * Runs one cell in this process (what a launcher does when it neither forks nor submits);
   * `signal` stops just this cell (checkpoint, KILLED).
   */
  runInProcess(cell: LaunchCell, signal?: AbortSignal): Promise<LaunchResult>;
  /** Aborted: running cells checkpoint and end KILLED, cells not yet started do not start. */
  signal?: AbortSignal;
}

export interface LaunchSubmission {
  handles: LaunchHandle[];
  /**
   * Present when the cells run under this process (the local launcher): resolves once every cell
   * has ended. Absent when they run elsewhere (a cluster): the cells' `result.json` files in their
   * run folders tell when they end; `submit` returned as soon as the cells were queued.
   */
  done?: Promise<LaunchResult[]>;
}

/** A launcher's own view of one cell (queue or process state); the run folder's result wins. */
export interface LaunchCellStatus {
  name: string;
  state: 'PENDING' | 'RUNNING' | 'ENDED' | 'UNKNOWN';
  /** The launcher's words for it (e.g. Slurm's `PENDING (BeginTime)`, `PREEMPTED`). */
  detail?: string;
  /** How often the cell was requeued (preemption, time limit). */
  requeues?: number;
  /**
   * ENDED without a result file in the run folder (cancelled while queued, out of memory, node
   * failure): what became of it in the launcher's eyes.
   */
  outcome?: Exclude<RunStatus, 'RUNNING'>;
}

/**
 * Hands a sweep's validated cells to where they run, and follows them. Every cell is an
 * `ablate run` of its resolved file into its run folder (or `ctx.runInProcess`), so a launcher
 * knows nothing of training; the run folders are the truth about outcomes.
 */
export interface Launcher {
  /**
   * True when the cells run elsewhere (a cluster): `submit` returns once they are queued, without
   * `done`. `ablate sweep` then leaves a small monitor process behind that ends the sweep's
   * parent run when the last cell has ended.
   */
  readonly detached?: boolean;
  submit(cells: readonly LaunchCell[], ctx: LaunchContext): Promise<LaunchSubmission>;
  /** The launcher's view of submitted cells, one entry per handle (UNKNOWN when it cannot tell). */
  status(handles: readonly LaunchHandle[]): Promise<LaunchCellStatus[]>;
  /** Stops cells: first the signal that makes `ablate run` checkpoint and end KILLED, then for good. */
  cancel(handles: readonly LaunchHandle[]): Promise<void>;
}

/**
 * Maps each kind to the instance its plugins create. A plugin pack that adds a kind adds it here by
 * module augmentation (`declare module ... { interface ComponentOf { critic: Critic } }`).
 */
export interface ComponentOf {
  model: SegmentationModel;
  optimizer: Optimizer;
  scheduler: Scheduler;
  loss: Loss;
  dataset: SegmentationDataset;
  transform: Transform;
  metric: Metric;
  trainer: Trainer;
  tracker: TrackingSink;
  launcher: Launcher;
}

export type { Tensor, Tensor3D, Tensor4D, Scalar, Variable, NamedTensorMap };
