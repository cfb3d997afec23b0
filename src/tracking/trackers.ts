/**
 * The three trackers. All of them write the local record first (RecordWriter); `mlflow` adds a
 * background Shipper per run, `console` echoes what is logged, `local` is the record alone.
 */
import { AblateError } from '../errors.js';
import type { DatasetInput, RunInfo, RunStatus, Tracker, TrackerRun } from '../plugin/contracts.js';
import { MlflowClient } from './mlflow-client.js';
import { RecordWriter } from './record.js';
import { Shipper, findRunByClientId } from './shipper.js';
import { systemTags } from './provenance.js';

export interface TrackerLog {
  info(message: string): void;
  warn(message: string): void;
}

const stderrLog: TrackerLog = {
  info: (m) => process.stderr.write(`[tracking] ${m}\n`),
  warn: (m) => process.stderr.write(`[tracking] warning: ${m}\n`),
};

/** A run whose calls go to the local record, then optionally to a shipper and an echo. */
export class RecordedRun implements TrackerRun {
  readonly id: string;
  readonly writer: RecordWriter;
  readonly shipper: Shipper | undefined;
  private readonly echo: ((line: string) => void) | undefined;
  private readonly flushTimeoutMs: number;
  private readonly log: TrackerLog;
  private readonly name: string;

  constructor(opts: { writer: RecordWriter; name: string; shipper?: Shipper; echo?: (line: string) => void; flushTimeoutMs?: number; log: TrackerLog }) {
    this.writer = opts.writer;
    this.id = opts.writer.id;
    this.name = opts.name;
    this.shipper = opts.shipper;
    this.echo = opts.echo;
    this.flushTimeoutMs = opts.flushTimeoutMs ?? 60_000;
    this.log = opts.log;
  }

  logParams(params: Record<string, string>): void {
    this.writer.logParams(params);
    this.echo?.(`${this.name}: ${Object.keys(params).length} params`);
  }

  logMetrics(step: number, metrics: Record<string, number>, timestampMs?: number): void {
    this.writer.logMetrics(step, metrics, timestampMs);
    if (this.echo) {
      const parts = Object.entries(metrics).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v).toPrecision(4)}`);
      this.echo(`${this.name} step ${step}: ${parts.join(' ')}`);
    }
  }

  setTags(tags: Record<string, string>): void {
    this.writer.setTags(tags);
  }

  logArtifact(localPath: string, artifactPath?: string): void {
    this.writer.logArtifact(localPath, artifactPath);
    this.echo?.(`${this.name}: artifact ${localPath}${artifactPath ? ` -> ${artifactPath}/` : ''}`);
  }

  logInput(input: DatasetInput): void {
    this.writer.logInput(input);
  }

  async flush(): Promise<void> {
    if (!this.shipper) return;
    try {
      const ok = await this.shipper.flush(this.flushTimeoutMs);
      if (!ok) this.log.warn(`run ${this.name}: not everything reached MLflow yet (it is in ${this.writer.runDir}/tracking)`);
    } catch (e) {
      this.log.warn(`run ${this.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async end(status: Exclude<RunStatus, 'RUNNING'>): Promise<void> {
    this.writer.end(status);
    this.echo?.(`${this.name}: ${status}`);
    if (!this.shipper) return;
    let ok = false;
    try {
      ok = await this.shipper.flush(this.flushTimeoutMs);
    } catch (e) {
      this.log.warn(`run ${this.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.shipper.stop();
    if (!ok) {
      this.log.warn(`run ${this.name} could not be fully shipped to ${this.shipper.client.trackingUri}; it is complete locally: replay it with \`ablate sync ${this.writer.runDir}\``);
    }
  }
}

function newWriter(info: RunInfo, log: TrackerLog, withSystemTags: boolean): RecordWriter {
  const writer = new RecordWriter(info.runDir, { name: info.name, experiment: info.experiment, parent: info.parentRunId });
  writer.warn = (m) => log.warn(m);
  writer.setTags({ ...(withSystemTags ? systemTags() : {}), ...info.tags });
  writer.logParams(info.params);
  return writer;
}

// ─── local ──

export interface LocalTrackerOptions {
  systemTags?: boolean;
  log?: TrackerLog;
}

export function createLocalTracker(opts: LocalTrackerOptions = {}): Tracker {
  const log = opts.log ?? stderrLog;
  return {
    async startRun(info) {
      return new RecordedRun({ writer: newWriter(info, log, opts.systemTags ?? true), name: info.name, log });
    },
    async close() {},
  };
}

// ─── console ──

export interface ConsoleTrackerOptions extends LocalTrackerOptions {
  /** Print metrics of every n-th logged step only. */
  every?: number;
  write?: (line: string) => void;
}

export function createConsoleTracker(opts: ConsoleTrackerOptions = {}): Tracker {
  const log = opts.log ?? stderrLog;
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`));
  const every = Math.max(1, opts.every ?? 1);
  return {
    async startRun(info) {
      write(`run ${info.name} (experiment ${info.experiment}) -> ${info.runDir}`);
      let calls = 0;
      const echo = (line: string) => {
        if (!line.includes(' step ') || calls++ % every === 0) write(line);
      };
      return new RecordedRun({ writer: newWriter(info, log, opts.systemTags ?? true), name: info.name, echo, log });
    },
    async close() {},
  };
}

// ─── mlflow ──

export interface MlflowTrackerOptions extends LocalTrackerOptions {
  /** Server URL; default MLFLOW_TRACKING_URI. */
  trackingUri?: string;
  /** How often the background shipper sends what was logged (ms). */
  intervalMs?: number;
  /** How long end() waits for the server to take everything (ms). */
  flushTimeoutMs?: number;
  /** How long startRun waits to create the MLflow run before going on locally (ms). */
  startTimeoutMs?: number;
}

export function resolveTrackingUri(explicit?: string): string {
  const uri = explicit ?? process.env.MLFLOW_TRACKING_URI;
  if (!uri) {
    throw new AblateError('tracking.no-uri', 'the mlflow tracker needs a tracking URI', {
      where: { key: 'tracker.tracking_uri' },
      hint: 'set tracker.tracking_uri or MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000), or use `tracker: {type: local}`',
    });
  }
  if (!/^https?:\/\//.test(uri)) {
    throw new AblateError('tracking.uri', `tracking URI '${uri}' is not an http(s) server`, {
      where: { key: 'tracker.tracking_uri' },
      hint: 'ablate talks to `mlflow server` over REST; for file or database stores start `mlflow server --backend-store-uri ...` and point ablate at it',
    });
  }
  return uri;
}

export class MlflowTracker implements Tracker {
  readonly client: MlflowClient;
  private readonly opts: MlflowTrackerOptions;
  private readonly log: TrackerLog;
  private readonly runs = new Map<string, RecordedRun>();

  constructor(opts: MlflowTrackerOptions = {}) {
    this.opts = opts;
    this.log = opts.log ?? stderrLog;
    // Few quick retries per request: the shipper's own loop handles long outages.
    this.client = new MlflowClient(resolveTrackingUri(opts.trackingUri), { maxRetries: 2, backoffMs: 200, timeoutMs: 30_000 });
  }

  async startRun(info: RunInfo): Promise<TrackerRun> {
    const writer = newWriter(info, this.log, this.opts.systemTags ?? true);
    const shipper = new Shipper({
      client: this.client,
      runDir: info.runDir,
      // A parent started by this process is known without asking the server.
      resolveParent: async (parent, experimentId) =>
        this.runs.get(parent)?.shipper?.mlflowRunId ?? findRunByClientId(this.client, experimentId, parent),
      warn: (m) => this.log.warn(m),
      info: (m) => this.log.info(m),
      intervalMs: this.opts.intervalMs ?? 1000,
    });
    const run = new RecordedRun({ writer, name: info.name, shipper, flushTimeoutMs: this.opts.flushTimeoutMs, log: this.log });
    this.runs.set(run.id, run);
    // Create the MLflow run now so it is visible while training, but never wait long for it.
    let timer: NodeJS.Timeout | undefined;
    const created = shipper.pump().then(
      () => true,
      (e: unknown) => {
        this.log.warn(`${e instanceof Error ? e.message : String(e)}; logging locally, shipping will retry in the background`);
        return false;
      },
    );
    await Promise.race([created, new Promise((r) => (timer = setTimeout(r, this.opts.startTimeoutMs ?? 10_000)))]);
    clearTimeout(timer);
    shipper.start();
    return run;
  }

  /** Ships what is left of every run this tracker started (runs not ended stay RUNNING). */
  async close(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.flush()));
    for (const r of this.runs.values()) r.shipper?.stop();
  }
}
