/**
 * The MLflow sink: each run's local record is shipped to an MLflow tracking server by a
 * background Shipper (training never waits on HTTP), and `ablate sync --to mlflow` replays a
 * finished record through the same Shipper. The record, not this sink, is the truth: an outage
 * costs a warning, and the rest is shipped when the server answers, at the end, or by `sync`.
 */
import { AblateError, maskUrlCredentials, type Logger, type SinkRun, type SinkRunInfo, type SinkSyncResult, type TrackedRun, type TrackingSink } from '../../../src/index.js';
import { MlflowClient, MlflowError } from './client.js';
import { readRuns } from './read.js';
import { Shipper, findRunByClientId } from './shipper.js';

export interface MlflowSinkOptions {
  /** Server URL; default MLFLOW_TRACKING_URI. */
  trackingUri?: string;
  /** The config key an error about the URL points at (e.g. `trackers.0.tracking_uri`). */
  uriKey?: string;
  /** How often the background shipper sends what was recorded (ms). */
  intervalMs?: number;
  /** How long the end of a run waits for the server to take everything (ms). */
  flushTimeoutMs?: number;
  /** How long starting a run waits to create the MLflow run before going on locally (ms). */
  startTimeoutMs?: number;
  log: Logger;
}

/** The server URL from the option or MLFLOW_TRACKING_URI; a located error when there is none. */
export function resolveTrackingUri(explicit: string | undefined, key = 'tracking_uri'): string {
  const uri = explicit ?? process.env.MLFLOW_TRACKING_URI;
  if (!uri) {
    throw new AblateError('tracking.no-uri', 'the mlflow tracker needs a tracking URI', {
      where: { key },
      hint: 'set tracking_uri on the tracker or MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000), or use `trackers: [{type: local}]`',
    });
  }
  if (!/^https?:\/\//.test(uri)) {
    throw new AblateError('tracking.uri', `tracking URI '${maskUrlCredentials(uri)}' is not an http(s) server`, {
      where: { key },
      hint: 'ablate talks to `mlflow server` over REST; for file or database stores start `mlflow server --backend-store-uri ...` and point ablate at it',
    });
  }
  return uri;
}

export class MlflowSink implements TrackingSink {
  readonly client: MlflowClient;
  private readonly opts: MlflowSinkOptions;
  private readonly log: Logger;
  /** Shippers of the runs this sink started, by client run id: close() ships what they have left. */
  private readonly shippers = new Map<string, Shipper>();
  /** MLflow run ids of the runs this sink ended or synced, by client run id (their children's parents). */
  private readonly known = new Map<string, string>();
  /** Set once a sync found the server unreachable: the other runs would only repeat the wait. */
  private unreachable: string | undefined;

  constructor(opts: MlflowSinkOptions) {
    this.opts = opts;
    this.log = opts.log;
    // Few quick retries per request: the shipper's own loop handles long outages.
    this.client = new MlflowClient(resolveTrackingUri(opts.trackingUri, opts.uriKey), { maxRetries: 2, backoffMs: 200, timeoutMs: 30_000 });
  }

  private shipperFor(runDir: string, intervalMs?: number): Shipper {
    return new Shipper({
      client: this.client,
      runDir,
      // A parent started (or synced) by this process is known without asking the server.
      resolveParent: async (parent, experimentId) => this.shippers.get(parent)?.mlflowRunId ?? this.known.get(parent) ?? findRunByClientId(this.client, experimentId, parent),
      warn: (m) => this.log.warn(m),
      info: (m) => this.log.info(m),
      ...(intervalMs !== undefined ? { intervalMs } : {}),
    });
  }

  async startRun(info: SinkRunInfo): Promise<SinkRun> {
    const shipper = this.shipperFor(info.runDir, this.opts.intervalMs ?? 1000);
    this.shippers.set(info.id, shipper);
    // Create the MLflow run now so it is visible while training, but never wait long for it.
    let timer: NodeJS.Timeout | undefined;
    const created = shipper.pump().then(
      () => true,
      (e: unknown) => {
        this.log.warn(`${message(e)}; logging locally, shipping will retry in the background`);
        return false;
      },
    );
    await Promise.race([created, new Promise((r) => (timer = setTimeout(r, this.opts.startTimeoutMs ?? 10_000)))]);
    clearTimeout(timer);
    shipper.start();
    const flushTimeoutMs = this.opts.flushTimeoutMs ?? 60_000;
    const flush = async (): Promise<boolean> => {
      try {
        return await shipper.flush(flushTimeoutMs);
      } catch (e) {
        this.log.warn(`run ${info.name}: ${message(e)}`);
        return false;
      }
    };
    return {
      // The background loop reads the record itself (byte offsets survive a crash); an end event
      // only wakes it early.
      event: (e) => {
        if (e.t === 'end') shipper.kick();
      },
      flush: async () => {
        if (!(await flush())) this.log.warn(`run ${info.name}: not everything reached MLflow yet (it is in ${info.runDir}/tracking)`);
      },
      end: async () => {
        const ok = await flush();
        shipper.stop();
        // Ended: close() has nothing more to wait for; children still find it as their parent.
        this.shippers.delete(info.id);
        if (shipper.mlflowRunId) this.known.set(info.id, shipper.mlflowRunId);
        // Where to look: the run's page, printed once when everything is there.
        if (ok && shipper.runUrl) this.log.info(`MLflow: ${info.name} at ${shipper.runUrl}`);
        if (!ok) {
          this.log.warn(`run ${info.name} could not be fully shipped to ${this.client.trackingUri}; it is complete locally: replay it with \`ablate sync ${info.runDir} --to mlflow\``);
        }
      },
    };
  }

  /** Ships what is left of the runs this sink started and that did not end (they stay RUNNING). */
  async close(): Promise<void> {
    await Promise.all([...this.shippers.values()].map((s) => s.flush(this.opts.flushTimeoutMs ?? 60_000).catch(() => false)));
    for (const s of this.shippers.values()) s.stop();
  }

  async sync(runDir: string): Promise<SinkSyncResult> {
    if (this.unreachable) throw new Error(`not attempted: ${this.unreachable}`);
    const shipper = this.shipperFor(runDir);
    const wasDone = shipper.done;
    try {
      await shipper.pump();
    } catch (e) {
      if (e instanceof MlflowError && e.status === 0) this.unreachable = `${this.client.trackingUri} is unreachable`;
      throw e;
    }
    const id = shipper.clientRunId;
    if (id && shipper.mlflowRunId) this.known.set(id, shipper.mlflowRunId);
    return { outcome: wasDone ? 'up-to-date' : 'synced', detail: `MLflow run ${shipper.mlflowRunId} on ${this.client.trackingUri}`, requests: shipper.stats.requests };
  }

  readRuns(target: string, opts: { history(metricKey: string): boolean }): Promise<{ title: string; runs: TrackedRun[] }> {
    // Reading is one-off: a few more retries than live logging, since nothing waits on it.
    return readRuns(new MlflowClient(this.client.trackingUri, { maxRetries: 3 }), target, opts);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
