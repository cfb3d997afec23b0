/**
 * Ships a run's local record to an MLflow server: the one code path behind live logging (a
 * background loop, so training never waits on HTTP) and `ablate sync` (a one-off replay).
 *
 * Progress is a byte offset into record.jsonl, saved per tracking server in
 * `tracking/shipped-<hash>.json` after every successful request, so a crash, an outage or a
 * second `sync` resumes where it stopped. Replays are idempotent: the MLflow run is found again
 * by its `ablate.run_id` tag, params and tags are idempotent, and a metric row sent twice is the
 * same primary key on MLflow's SQL stores.
 *
 * A resumed attempt continues the same record (a `resume` event after the earlier `end`): the
 * shipper carries on from its saved offset in the same MLflow run and sets it RUNNING again. The
 * record never holds two points of one metric at one step (points a resumed attempt recomputes
 * are `recomputed` events, not shipped), so neither does the MLflow run.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError, decodeMetricValue, readEventsFrom, recordPaths, type RecordEvent, type StartEvent } from '../../../src/index.js';
import { LIMITS, isValidKey, sanitizeKey } from './limits.js';
import { mlflowMetricKey } from './metric-names.js';
import { MlflowClient, MlflowError, chunkBatch, type KeyValue, type LogBatch, type MetricPoint } from './client.js';

/** The tag that ties an MLflow run to its local record. */
export const RUN_ID_TAG = 'ablate.run_id';
/**
 * ablate's system tags under the names MLflow's UI shows them by (mlflow/utils/mlflow_tags.py);
 * they are sent under both names, so the run page shows the source and git commit.
 */
const MLFLOW_SYSTEM_TAGS: Readonly<Record<string, string>> = {
  'ablate.source.name': 'mlflow.source.name',
  'ablate.user': 'mlflow.user',
  'ablate.git.commit': 'mlflow.source.git.commit',
  'ablate.git.branch': 'mlflow.source.git.branch',
  'ablate.git.dirty': 'mlflow.source.git.dirty',
  'ablate.git.repo_url': 'mlflow.source.git.repoURL',
  // The run page's description (Markdown): the experiment file's header comment.
  'ablate.description': 'mlflow.note.content',
};

/** Most entities gathered before a log-batch group is sent (and the offset saved). */
const GROUP_ENTITIES = 5000;

export interface ShipState {
  trackingUri: string;
  experimentId: string;
  runId: string;
  artifactUri: string;
  /** Bytes of record.jsonl already on the server. */
  offset: number;
  /** The last event shipped was an end event (a resumed attempt may add more after it). */
  done: boolean;
}

/** Not an error of the server: something the run depends on is not there yet (its parent). */
export class NotReadyError extends Error {}

export interface ShipperOptions {
  client: MlflowClient;
  runDir: string;
  /** MLflow run id of a parent given its client run id; default: search the experiment by tag. */
  resolveParent?: (parentClientId: string, experimentId: string) => Promise<string | undefined>;
  warn?: (message: string) => void;
  info?: (message: string) => void;
  /** Background loop period (ms). */
  intervalMs?: number;
  /** Longest wait between retries while the server is unreachable (ms). */
  maxRetryMs?: number;
}

export function stateFile(runDir: string, trackingUri: string): string {
  const h = createHash('sha1').update(trackingUri).digest('hex').slice(0, 10);
  return path.join(recordPaths(runDir).dir, `shipped-${h}.json`);
}

/**
 * The saved progress for this server, if any. The file is data from disk (a crash mid-write on a
 * full disk, a hand edit, a copied folder): anything but the expected fields is a located error
 * that says what to do, never a JSON parser's stack trace.
 */
export function readShipState(runDir: string, trackingUri: string): ShipState | undefined {
  const f = stateFile(runDir, trackingUri);
  if (!existsSync(f)) return undefined;
  let state: unknown;
  let problem: string | undefined;
  try {
    state = JSON.parse(readFileSync(f, 'utf8'));
    problem = shipStateProblem(state);
  } catch (e) {
    problem = `not valid JSON (${(e as Error).message})`;
  }
  if (problem !== undefined) {
    throw new AblateError('tracking.bad-sync-state', `${f}: damaged sync state: ${problem}`, {
      where: { file: f },
      hint: 'delete the file and sync again: the record is replayed into the same MLflow run (found by its ablate.run_id tag), and a replay sends nothing twice',
    });
  }
  return state as ShipState;
}

/** What is wrong with a parsed state file, or undefined when it has every field with its type. */
function shipStateProblem(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  for (const k of ['trackingUri', 'experimentId', 'runId', 'artifactUri'] as const) if (typeof o[k] !== 'string') return `'${k}' is not a string`;
  if (typeof o.offset !== 'number' || !Number.isSafeInteger(o.offset) || o.offset < 0) return `'offset' is not a byte offset`;
  if (typeof o.done !== 'boolean') return `'done' is not true or false`;
  return undefined;
}

/** Finds the MLflow run carrying `ablate.run_id = clientId` in an experiment. */
export async function findRunByClientId(client: MlflowClient, experimentId: string, clientId: string): Promise<string | undefined> {
  const runs = await client.searchRuns([experimentId], `tags.\`${RUN_ID_TAG}\` = '${clientId}'`, { maxResults: 10 });
  return runs[0]?.info.run_id;
}

function isInside(p: string, root: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The first line of a record (its start event), read without reading the rest. */
function readStartEvent(file: string): StartEvent | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const nl = buf.subarray(0, n).indexOf(0x0a);
    const e = nl > 0 ? (JSON.parse(buf.subarray(0, nl).toString('utf8')) as RecordEvent) : undefined;
    return e?.t === 'start' ? e : undefined;
  } finally {
    closeSync(fd);
  }
}

export class Shipper {
  readonly client: MlflowClient;
  readonly runDir: string;
  private state: ShipState | undefined;
  private clientId: string | undefined;
  private readonly file: string;
  private readonly opts: ShipperOptions;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private failures = 0;
  private lastWarning = '';
  private readonly warnedKeys = new Set<string>();
  /** Counters for reports and benchmarks. */
  readonly stats = { requests: 0, metrics: 0, params: 0, tags: 0, artifacts: 0 };

  constructor(opts: ShipperOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.runDir = path.resolve(opts.runDir);
    this.file = recordPaths(this.runDir).file;
    this.state = readShipState(this.runDir, this.client.trackingUri);
  }

  /** Asked of the server once per shipper: it decides where artifacts go. */
  private serverArtifactUri: string | undefined;

  /**
   * Where this run's artifacts go, from the server's answer, never from the state file: a copied
   * or edited run folder could name `file:///anywhere` there and make ablate write into it.
   */
  private async artifactUri(): Promise<string> {
    this.serverArtifactUri ??= (await this.client.getRun(this.state!.runId)).info.artifact_uri ?? '';
    return this.serverArtifactUri;
  }

  /** The client run id of the record (its start event's id). */
  get clientRunId(): string | undefined {
    this.clientId ??= readStartEvent(this.file)?.id;
    return this.clientId;
  }

  /** The MLflow run id once the run exists on the server. */
  get mlflowRunId(): string | undefined {
    return this.state?.runId;
  }

  /** The run's page in the MLflow UI once the run exists on the server. */
  get runUrl(): string | undefined {
    return this.state ? `${this.client.trackingUri}/#/experiments/${this.state.experimentId}/runs/${this.state.runId}` : undefined;
  }

  /** The run has ended and the server has all of its record (a resumed attempt's events are new work). */
  get done(): boolean {
    return (this.state?.done ?? false) && statSync(this.file, { throwIfNoEntry: false })?.size === this.state!.offset;
  }

  private warn(m: string) {
    (this.opts.warn ?? ((s: string) => process.emitWarning(s)))(m);
  }

  /** Ships everything the record holds now. Throws on a transient failure (the offset is kept). */
  pump(): Promise<void> {
    const next = this.chain.then(() => this.pumpOnce());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async pumpOnce(): Promise<void> {
    const { events } = readEventsFrom(this.file, this.state?.offset ?? 0);
    if (events.length === 0) return;
    if (!this.state) {
      const start = events[0]?.event;
      if (!start || start.t !== 'start') throw new Error(`${this.file}: the record does not begin with a start event`);
      await this.ensureRun(start, events[0]!.end);
      events.shift();
    }
    let group: LogBatch = { metrics: [], params: [], tags: [] };
    let groupSize = 0;
    let groupEnd = this.state!.offset;
    const sendGroup = async () => {
      if (groupSize > 0) await this.sendBatch(group);
      this.save({ offset: groupEnd });
      group = { metrics: [], params: [], tags: [] };
      groupSize = 0;
    };
    for (const { event, end } of events) {
      if (event.t === 'params' || event.t === 'tags' || event.t === 'metrics') {
        groupSize += this.addToGroup(group, event);
        groupEnd = end;
        if (groupSize >= GROUP_ENTITIES) await sendGroup();
        continue;
      }
      await sendGroup();
      await this.sendOther(event);
      groupEnd = end;
      this.save({ offset: end, done: event.t === 'end' });
    }
    await sendGroup();
  }

  private async ensureRun(start: StartEvent, offset: number): Promise<void> {
    const c = this.client;
    const experimentId = await c.getOrCreateExperiment(start.experiment);
    let runId = await findRunByClientId(c, experimentId, start.id);
    let artifactUri: string | undefined;
    if (!runId) {
      const tags: Record<string, string> = { [RUN_ID_TAG]: start.id, 'mlflow.source.type': 'LOCAL' };
      if (start.parent) {
        const resolve = this.opts.resolveParent ?? ((p: string, e: string) => findRunByClientId(c, e, p));
        const parentRunId = await resolve(start.parent, experimentId);
        if (!parentRunId) throw new NotReadyError(`parent run ${start.parent} is not on ${c.trackingUri} yet`);
        tags['mlflow.parentRunId'] = parentRunId;
      }
      const run = await c.createRun({ experimentId, runName: start.name, startTime: start.time, tags });
      this.stats.requests++;
      runId = run.info.run_id;
      artifactUri = run.info.artifact_uri;
      this.serverArtifactUri = artifactUri;
    }
    artifactUri ??= (await c.getRun(runId)).info.artifact_uri;
    this.serverArtifactUri = artifactUri ?? '';
    this.state = { trackingUri: c.trackingUri, experimentId, runId, artifactUri: artifactUri ?? '', offset, done: false };
    this.save({});
  }

  private save(patch: Partial<ShipState>): void {
    Object.assign(this.state!, patch);
    const tmp = `${this.file}.tmp-state`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 1));
    renameSync(tmp, stateFile(this.runDir, this.client.trackingUri));
  }

  /** Applies MLflow's key rules once per key, warning about the ones that had to change. */
  private key(k: string): string {
    if (isValidKey(k)) return k;
    const s = sanitizeKey(k);
    if (!this.warnedKeys.has(k)) {
      this.warnedKeys.add(k);
      this.warn(`key '${k}' is not valid for MLflow; logged as '${s}'`);
    }
    return s;
  }

  private addToGroup(group: LogBatch, e: RecordEvent): number {
    if (e.t === 'params') {
      for (const [k, v] of Object.entries(e.p)) group.params!.push({ key: this.key(k), value: v });
      return Object.keys(e.p).length;
    }
    if (e.t === 'tags') {
      let n = 0;
      for (const [k, v] of Object.entries(e.tags)) {
        group.tags!.push({ key: this.key(k), value: v });
        const alias = MLFLOW_SYSTEM_TAGS[k];
        if (alias) group.tags!.push({ key: alias, value: v });
        n += alias ? 2 : 1;
      }
      return n;
    }
    if (e.t === 'metrics') {
      for (const [k, v] of Object.entries(e.m)) group.metrics!.push({ key: this.key(mlflowMetricKey(k, e.m)), value: decodeMetricValue(v), timestamp: e.ts, step: e.step });
      return Object.keys(e.m).length;
    }
    return 0;
  }

  /** Values MLflow would truncate are uploaded whole as artifacts; the param/tag keeps a pointer. */
  private async fitValues(list: KeyValue[], limit: number, what: 'params' | 'tags'): Promise<KeyValue[]> {
    const out: KeyValue[] = [];
    for (const kv of list) {
      if (kv.value.length <= limit) {
        // MLflow refuses some empty values; an explicit marker keeps the key visible.
        out.push(kv.value.length === 0 && what === 'params' ? { key: kv.key, value: 'None' } : kv);
        continue;
      }
      const artifact = `ablate/long-values/${what}/${kv.key}.txt`;
      await this.client.uploadArtifact(await this.artifactUri(), artifact, Buffer.from(kv.value));
      this.stats.requests++;
      const note = ` ... [${kv.value.length} chars; full value in artifact ${artifact}]`;
      out.push({ key: kv.key, value: kv.value.slice(0, limit - note.length) + note });
      this.warn(`${what === 'params' ? 'param' : 'tag'} '${kv.key}' has ${kv.value.length} characters (MLflow keeps ${limit}); the full value is the artifact ${artifact}`);
    }
    return out;
  }

  private async sendBatch(group: LogBatch): Promise<void> {
    const runId = this.state!.runId;
    const batch: LogBatch = {
      params: await this.fitValues(group.params ?? [], LIMITS.paramValue, 'params'),
      tags: await this.fitValues(group.tags ?? [], LIMITS.tagValue, 'tags'),
      metrics: group.metrics,
    };
    for (const chunk of chunkBatch(batch)) {
      try {
        await this.client.logBatch(runId, chunk);
        this.stats.requests++;
      } catch (e) {
        if (!(e instanceof MlflowError) || e.transient) throw e;
        // A request the server refuses as a whole (e.g. a param changed by a resumed run):
        // retry its entities one kind at a time so one bad entity does not block the rest.
        await this.sendPiecewise(runId, chunk);
      }
      this.stats.params += chunk.params?.length ?? 0;
      this.stats.tags += chunk.tags?.length ?? 0;
      this.stats.metrics += chunk.metrics?.length ?? 0;
    }
  }

  private async sendPiecewise(runId: string, chunk: LogBatch): Promise<void> {
    const single: LogBatch[] = [
      ...(chunk.params ?? []).map((p) => ({ params: [p] })),
      ...(chunk.tags ?? []).map((t) => ({ tags: [t] })),
      ...(chunk.metrics?.length ? [{ metrics: chunk.metrics }] : []),
    ];
    for (const b of single) {
      try {
        await this.client.logBatch(runId, b);
        this.stats.requests++;
      } catch (e) {
        if (!(e instanceof MlflowError) || e.transient) throw e;
        const what = b.params ? `param '${b.params[0]!.key}'` : b.tags ? `tag '${b.tags[0]!.key}'` : `${b.metrics!.length} metric points`;
        this.warn(`MLflow refused ${what}: ${e.message} (kept in the local record)`);
      }
    }
  }

  private async sendOther(e: RecordEvent): Promise<void> {
    const c = this.client;
    const s = this.state!;
    if (e.t === 'artifact') {
      const root = recordPaths(this.runDir).artifacts;
      const local = path.resolve(root, e.file);
      if (!existsSync(local)) {
        this.warn(`artifact ${e.file} is missing from ${root}; not shipped`);
        return;
      }
      // A record is read back as untrusted input (a copied or hand-edited folder): what it names
      // must be inside its own artifacts folder, links resolved.
      if (!isInside(realpathSync(local), realpathSync(root))) {
        this.warn(`artifact ${e.file} lies outside ${root}; not shipped`);
        return;
      }
      const dir = path.posix.dirname(e.file);
      const skipped = (p: string) => this.warn(`${path.relative(root, p)} in the record is a symbolic link; not shipped`);
      this.stats.artifacts += await c.uploadArtifactPath(await this.artifactUri(), local, dir === '.' ? '' : dir, skipped);
      this.stats.requests++;
    } else if (e.t === 'input') {
      const i = e.input;
      await c.logInputs(s.runId, [
        {
          dataset: {
            name: i.name.slice(0, LIMITS.datasetName),
            digest: i.digest.slice(0, LIMITS.datasetDigest),
            source_type: 'local',
            source: JSON.stringify({ uri: i.source }).slice(0, LIMITS.datasetSource),
            ...(i.profile ? { profile: JSON.stringify(i.profile) } : {}),
          },
          tags: [{ key: 'mlflow.data.context', value: i.context }],
        },
      ]);
      this.stats.requests++;
    } else if (e.t === 'end') {
      await c.updateRun(s.runId, { status: e.status, endTime: e.time });
      this.stats.requests++;
    } else if (e.t === 'resume') {
      // The same MLflow run continues: RUNNING again until the resumed attempt's end event.
      await c.updateRun(s.runId, { status: 'RUNNING' });
      this.stats.requests++;
    }
  }

  // ─── background loop ──

  /** Starts shipping in the background every `intervalMs`, backing off while the server is down. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Wakes the loop now (e.g. after a burst of events). */
  kick(): void {
    if (!this.stopped && this.failures === 0) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    // The loop must never keep a finished process alive: close()/flush() ship what is left.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    try {
      await this.pump();
      if (this.failures > 0) (this.opts.info ?? (() => undefined))(`MLflow at ${this.client.trackingUri} reachable again; shipping resumed`);
      this.failures = 0;
      this.lastWarning = '';
    } catch (e) {
      this.failures++;
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastWarning && !(e instanceof NotReadyError)) {
        this.warn(`${msg}; logging continues locally and will be shipped when the server answers`);
        this.lastWarning = msg;
      }
    }
    if (this.stopped || this.done) return;
    const interval = this.opts.intervalMs ?? 1000;
    this.schedule(this.failures > 0 ? Math.min(this.opts.maxRetryMs ?? 15_000, interval * 2 ** Math.min(this.failures, 6)) : interval);
  }

  /**
   * Ships until the record is fully on the server or `timeoutMs` passes; returns whether it
   * caught up. Never throws for an unreachable server.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let wait = 200; ; wait = Math.min(wait * 2, 5000)) {
      try {
        await this.pump();
        return true;
      } catch (e) {
        if (e instanceof MlflowError && !e.transient) throw e;
        if (Date.now() + wait > deadline) return false;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export type { MetricPoint };
