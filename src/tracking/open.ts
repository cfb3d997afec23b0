/**
 * Opening tracking for a run: the one function the engine calls. The local record is written
 * first, synchronously, by the core (RecordWriter); each sink of the experiment's `trackers:` list
 * is then handed every recorded event, so a sink that is slow, down or broken can cost a warning
 * but never a logged value (the record keeps it, and `ablate sync --to <type>` replays it).
 */
import { AblateError } from '../errors.js';
import type { Logger } from '../plugin/define.js';
import type { RecordEvent, RunInfo, RunStatus, SinkRun, TrackerRun, TrackingSink, DatasetInput } from '../plugin/contracts.js';
import { RecordWriter, isRunDir } from './record.js';

/** The trackers of one experiment, opened: start runs, then close once every run has ended. */
export interface Tracking {
  startRun(info: RunInfo): Promise<RecordedRun>;
  close(): Promise<void>;
}

/** Where the sinks come from: the experiment's components (the `trackers:` list slot). */
export interface SinkSource {
  slotNames(): string[];
  get(slot: string, kind: 'tracker'): Promise<TrackingSink>;
}

/** The slots of the `trackers:` list, in list order (`trackers.0`, `trackers.1`, …). */
export function trackerSlots(slotNames: readonly string[]): string[] {
  return slotNames
    .filter((s) => /^trackers\.\d+$/.test(s))
    .sort((a, b) => Number(a.slice(9)) - Number(b.slice(9)));
}

/** Builds the experiment's sinks and returns the tracking the engine logs through. */
export async function openTracking(components: SinkSource, log: Logger): Promise<Tracking> {
  const sinks: NamedSink[] = [];
  for (const slot of trackerSlots(components.slotNames())) sinks.push({ name: slot, sink: await components.get(slot, 'tracker') });
  return trackingWith(sinks, log);
}

export interface NamedSink {
  /** For messages: the slot (`trackers.1`) or the type. */
  name: string;
  sink: TrackingSink;
}

/** Tracking over sinks that are already built (tests, tools). */
export function trackingWith(sinks: readonly NamedSink[], log: Logger): Tracking {
  let closed = false;
  return {
    async startRun(info) {
      if (closed) throw new AblateError('tracking.closed', `tracking was closed; run '${info.name}' cannot start`);
      return RecordedRun.start(info, sinks, log);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(sinks.map(({ name, sink }) => guarded(log, name, 'close', () => sink.close?.())));
    },
  };
}

interface OpenSink {
  name: string;
  run: SinkRun;
  broken: boolean;
}

/** A run whose calls go to the local record, then to every sink's run. */
export class RecordedRun implements TrackerRun {
  readonly id: string;
  readonly writer: RecordWriter;
  private readonly sinks: OpenSink[] = [];

  private constructor(
    writer: RecordWriter,
    private readonly log: Logger,
  ) {
    this.writer = writer;
    this.id = writer.id;
  }

  static async start(info: RunInfo, sinks: readonly NamedSink[], log: Logger): Promise<RecordedRun> {
    // A resumed attempt continues the run its folder records (one run, in the record and in every
    // sink); a folder without a record (copied without tracking/) starts one.
    const continuing = info.resume !== undefined && isRunDir(info.runDir);
    if (info.resume && !continuing) log.warn(`${info.runDir} holds no tracking record to continue; the resumed attempt starts a new one`);
    const writer = continuing
      ? RecordWriter.continue(info.runDir, { ...(info.resume?.iteration !== undefined ? { iteration: info.resume.iteration } : {}), ...(info.resume?.released ? { released: true } : {}), warn: (m) => log.warn(m) })
      : new RecordWriter(info.runDir, { name: info.name, experiment: info.experiment, parent: info.parentRunId });
    writer.warn = (m) => log.warn(m);
    // What is recorded before the sinks have opened the run reaches them right after they have.
    const early: RecordEvent[] = [writer.resumed ?? writer.start];
    writer.onAppend = (e) => early.push(e);
    writer.setTags(info.tags);
    writer.logParams(info.params);
    const run = new RecordedRun(writer, log);
    const opened = await Promise.all(
      sinks.map(async ({ name, sink }) => {
        try {
          return { name, run: await sink.startRun({ ...info, id: writer.id }), broken: false };
        } catch (e) {
          log.warn(`${name}: could not start run '${info.name}': ${message(e)} (it is recorded in ${writer.runDir}/tracking; \`ablate sync\` can replay it)`);
          return undefined;
        }
      }),
    );
    for (const s of opened) if (s) run.sinks.push(s);
    writer.onAppend = (e) => run.dispatch(e);
    for (const e of early) run.dispatch(e);
    return run;
  }

  private dispatch(e: RecordEvent): void {
    for (const s of this.sinks) {
      if (s.broken || !s.run.event) continue;
      try {
        s.run.event(e);
      } catch (err) {
        // One failing sink must not stop training nor the other sinks; the record has the event.
        s.broken = true;
        this.log.warn(`${s.name}: ${message(err)}; it gets nothing more from run ${this.id} (the record keeps everything)`);
      }
    }
  }

  logParams(params: Record<string, string>): void {
    this.writer.logParams(params);
  }

  logMetrics(step: number, metrics: Record<string, number>, timestampMs?: number): void {
    this.writer.logMetrics(step, metrics, timestampMs);
  }

  setTags(tags: Record<string, string>): void {
    this.writer.setTags(tags);
  }

  logArtifact(localPath: string, artifactPath?: string): void {
    this.writer.logArtifact(localPath, artifactPath);
  }

  logInput(input: DatasetInput): void {
    this.writer.logInput(input);
  }

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => guarded(this.log, s.name, 'flush', () => s.run.flush?.())));
  }

  /**
   * Delivers what was recorded and lets go of the record without ending the run: another process
   * continues and ends it (a sweep's parent, ended by whoever sees its last cell end).
   */
  async release(): Promise<void> {
    await this.flush();
    this.writer.close();
  }

  async end(status: Exclude<RunStatus, 'RUNNING'>): Promise<void> {
    if (this.writer.isEnded) return;
    this.writer.end(status);
    await Promise.all(this.sinks.map((s) => guarded(this.log, s.name, 'end', () => s.run.end?.())));
  }
}

async function guarded(log: Logger, name: string, what: string, fn: () => Promise<void> | undefined): Promise<void> {
  try {
    await fn();
  } catch (e) {
    log.warn(`${name}: ${what} failed: ${message(e)}`);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
