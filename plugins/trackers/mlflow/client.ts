/**
 * A small typed client for MLflow's tracking REST API 2.0 and the `mlflow-artifacts` proxy.
 * Written here because no maintained JS client for run tracking exists (see
 * shared/reference/mlflow.md §4). Uses the global fetch (keep-alive by default) and retries the
 * way the Python client does: on 408/429/500/502/503/504 and on connection errors, with
 * exponential backoff and jitter; other 4xx are final.
 */
import { readFile, copyFile, mkdir, readdir, lstat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AblateError, decodeMetricValue, encodeMetricValue, maskUrlCredentials } from '../../../src/index.js';
import { LIMITS } from './limits.js';
import { tlsFetch, tlsFromEnv } from './tls.js';

// ─── wire types ──────────────────────────────────────────────────────────────────────────────

export interface KeyValue {
  key: string;
  value: string;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time?: number;
  last_update_time?: number;
  tags?: KeyValue[];
}

export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowRunInfo {
  run_id: string;
  run_name?: string;
  experiment_id: string;
  status: MlflowRunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: 'active' | 'deleted';
}

/** A metric as sent: `value` is a number, or 'NaN'/'Infinity'/'-Infinity' for non-finite values. */
export interface MetricPoint {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step: number;
}

export interface MlflowDatasetInput {
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
  tags?: KeyValue[];
}

export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MetricPoint[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: { dataset_inputs?: MlflowDatasetInput[] };
}

export interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface LogBatch {
  metrics?: MetricPoint[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

// ─── errors and retries ──────────────────────────────────────────────────────────────────────

/** An MLflow answer that is not a success, or a server that cannot be reached after retries. */
export class MlflowError extends AblateError {
  /** HTTP status; 0 when the server could not be reached at all. */
  readonly status: number;
  /** MLflow's `error_code`, e.g. `RESOURCE_ALREADY_EXISTS`; `CONNECTION` when unreachable. */
  readonly errorCode: string;
  constructor(status: number, errorCode: string, message: string, endpoint: string, cause?: unknown) {
    super('tracking.mlflow', `MLflow ${endpoint}: ${message}`, {
      where: { file: endpoint },
      hint:
        status === 0
          ? 'is the MLflow server running? (check --tracking-uri / MLFLOW_TRACKING_URI)'
          : undefined,
      cause,
    });
    this.status = status;
    this.errorCode = errorCode;
  }
  /** Whether the same request may succeed later (server down, overloaded, timed out). */
  get transient(): boolean {
    return this.status === 0 || RETRY_STATUS.has(this.status);
  }
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export interface MlflowClientOptions {
  /** Retries after the first attempt for transient failures (Python client default: 5). */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, capped at `maxBackoffMs`, with ±50% jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout (Python client default: 120 s). */
  timeoutMs?: number;
  /** Extra headers, e.g. `Authorization` for a server behind a proxy. */
  headers?: Record<string, string>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * An abort signal on a ref'd timer. AbortSignal.timeout's timer is unref'd, so a request that
 * hangs with nothing else pending would let the process end silently (exit code 13) instead of
 * timing out and being retried.
 */
function refTimeout(ms: number): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no answer within ${ms} ms`)), ms);
  return { signal: ac.signal, clear: () => clearTimeout(timer) };
}

/** Builds the `Authorization` header from MLflow's own environment variables when set. */
function authHeaders(): Record<string, string> {
  const token = process.env.MLFLOW_TRACKING_TOKEN;
  if (token) return { Authorization: `Bearer ${token}` };
  const user = process.env.MLFLOW_TRACKING_USERNAME;
  const pass = process.env.MLFLOW_TRACKING_PASSWORD;
  if (user && pass) return { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
  return {};
}

// ─── the client ──────────────────────────────────────────────────────────────────────────────

export class MlflowClient {
  readonly trackingUri: string;
  /** Experiment ids by name, so replaying many runs asks for each experiment once. */
  private readonly experimentIds = new Map<string, string>();
  private readonly opts: Required<Omit<MlflowClientOptions, 'headers'>> & { headers: Record<string, string> };
  /** fetch, or one with the TLS settings of MLflow's environment variables (tls.ts). */
  private readonly fetch: typeof fetch;

  constructor(trackingUri: string, opts: MlflowClientOptions = {}) {
    const uri = trackingUri.replace(/\/+$/, '');
    if (!/^https?:\/\//.test(uri)) {
      throw new AblateError('tracking.uri', `tracking URI '${maskUrlCredentials(trackingUri)}' is not an http(s) URL`, {
        hint: 'start a server with `mlflow server` and pass e.g. http://127.0.0.1:5000',
      });
    }
    // `https://user:password@host`: the credentials become a Basic Authorization header (as
    // `requests` does for MLflow's Python client) and leave the URI, which is what messages,
    // state files and records show.
    const parsed = new URL(uri);
    const userinfo: Record<string, string> =
      parsed.username || parsed.password ? { Authorization: `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}` } : {};
    parsed.username = '';
    parsed.password = '';
    this.trackingUri = userinfo.Authorization ? parsed.toString().replace(/\/+$/, '') : uri;
    this.opts = {
      maxRetries: opts.maxRetries ?? 5,
      backoffMs: opts.backoffMs ?? 500,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      timeoutMs: opts.timeoutMs ?? 120_000,
      headers: { ...userinfo, ...authHeaders(), ...(opts.headers ?? {}) },
    };
    const tls = this.trackingUri.startsWith('https:') ? tlsFromEnv() : undefined;
    this.fetch = tls ? tlsFetch(tls) : fetch;
  }

  /** One HTTP request with the retry policy; returns the parsed JSON body (or `{}` when empty). */
  private async request<T>(method: string, urlPath: string, body?: unknown, raw?: Buffer): Promise<T> {
    const url = `${this.trackingUri}${urlPath}`;
    const endpoint = `${method} ${urlPath.replace(/\?.*$/, '')}`;
    const headers: Record<string, string> = { ...this.opts.headers };
    let payload: string | Uint8Array<ArrayBuffer> | undefined;
    if (raw !== undefined) {
      headers['Content-Type'] = 'application/octet-stream';
      // A copy into a plain ArrayBuffer: fetch's BodyInit typing refuses Buffer/SharedArrayBuffer views.
      payload = new Uint8Array(raw);
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let lastError: MlflowError | undefined;
    for (let attempt = 0; attempt <= this.opts.maxRetries; attempt++) {
      if (attempt > 0) {
        const base = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (attempt - 1));
        await sleep(base * (0.5 + Math.random()));
      }
      const timer = refTimeout(this.opts.timeoutMs);
      let res: Response;
      let text: string;
      try {
        res = await this.fetch(url, { method, headers, body: payload, signal: timer.signal });
        text = await res.text();
      } catch (e) {
        const msg = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
        lastError = new MlflowError(0, 'CONNECTION', `cannot reach ${this.trackingUri} (${msg})`, endpoint, e);
        continue;
      } finally {
        timer.clear();
      }
      if (res.ok) {
        if (text.length === 0) return {} as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          // Some endpoints answer plain text (e.g. /version): hand it back as-is.
          return text as unknown as T;
        }
      }
      lastError = parseError(res.status, text, endpoint);
      if (!RETRY_STATUS.has(res.status)) throw lastError;
    }
    throw lastError ?? new MlflowError(0, 'CONNECTION', 'no attempt made', endpoint);
  }

  private api<T>(method: 'GET' | 'POST', endpoint: string, body?: Record<string, unknown>): Promise<T> {
    if (method === 'GET' && body) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) if (v !== undefined) qs.set(k, String(v));
      return this.request<T>('GET', `/api/2.0/mlflow/${endpoint}?${qs.toString()}`);
    }
    return this.request<T>(method, `/api/2.0/mlflow/${endpoint}`, body);
  }

  // ─── server ──

  async health(): Promise<boolean> {
    const t = refTimeout(5000);
    try {
      const res = await this.fetch(`${this.trackingUri}/health`, { signal: t.signal });
      return res.ok;
    } catch {
      return false;
    } finally {
      t.clear();
    }
  }

  async version(): Promise<string> {
    const v = await this.request<unknown>('GET', '/version');
    return String(v).trim();
  }

  // ─── experiments ──

  async getExperimentByName(name: string): Promise<MlflowExperiment | undefined> {
    try {
      const r = await this.api<{ experiment: MlflowExperiment }>('GET', 'experiments/get-by-name', { experiment_name: name });
      return r.experiment;
    } catch (e) {
      if (e instanceof MlflowError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw e;
    }
  }

  /** Every active experiment (MLflow 2.0 removed experiments/list), following page tokens. */
  async searchExperiments(opts: { filter?: string; pageSize?: number } = {}): Promise<MlflowExperiment[]> {
    const out: MlflowExperiment[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.api<{ experiments?: MlflowExperiment[]; next_page_token?: string }>('POST', 'experiments/search', {
        max_results: opts.pageSize ?? 1000,
        view_type: 'ACTIVE_ONLY',
        ...(opts.filter ? { filter: opts.filter } : {}),
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      out.push(...(r.experiments ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  async getExperiment(id: string): Promise<MlflowExperiment> {
    return (await this.api<{ experiment: MlflowExperiment }>('GET', 'experiments/get', { experiment_id: id })).experiment;
  }

  async createExperiment(name: string, tags: Record<string, string> = {}): Promise<string> {
    const r = await this.api<{ experiment_id: string }>('POST', 'experiments/create', { name, tags: toKv(tags) });
    return r.experiment_id;
  }

  /**
   * Returns the id of the experiment called `name`, creating it if needed. Safe when several
   * processes race (the loser of `create` gets RESOURCE_ALREADY_EXISTS and reads the winner's), and
   * restores an experiment that was deleted in the UI, since runs cannot be created in it.
   */
  async getOrCreateExperiment(name: string): Promise<string> {
    if (name.length === 0 || name.length > LIMITS.experimentName) {
      throw new AblateError('tracking.experiment', `experiment name must have 1..${LIMITS.experimentName} characters`, {
        where: { key: 'experiment' },
      });
    }
    const known = this.experimentIds.get(name);
    if (known) return known;
    const id = await this.resolveExperiment(name);
    this.experimentIds.set(name, id);
    return id;
  }

  private async resolveExperiment(name: string): Promise<string> {
    let exp = await this.getExperimentByName(name);
    if (!exp) {
      try {
        return await this.createExperiment(name);
      } catch (e) {
        if (!(e instanceof MlflowError && e.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw e;
        exp = await this.getExperimentByName(name);
        if (!exp) throw e;
      }
    }
    if (exp.lifecycle_stage === 'deleted') {
      await this.api('POST', 'experiments/restore', { experiment_id: exp.experiment_id });
    }
    return exp.experiment_id;
  }

  // ─── runs ──

  async createRun(req: { experimentId: string; runName?: string; startTime?: number; tags?: Record<string, string> }): Promise<MlflowRun> {
    const tags = { ...(req.tags ?? {}) };
    // The server refuses run_name and mlflow.runName when they differ: keep them equal.
    if (req.runName !== undefined) tags['mlflow.runName'] = req.runName;
    const r = await this.api<{ run: MlflowRun }>('POST', 'runs/create', {
      experiment_id: req.experimentId,
      run_name: req.runName,
      start_time: req.startTime ?? Date.now(),
      tags: toKv(tags),
    });
    return r.run;
  }

  async updateRun(runId: string, update: { status?: MlflowRunStatus; endTime?: number; runName?: string }): Promise<MlflowRunInfo> {
    const r = await this.api<{ run_info: MlflowRunInfo }>('POST', 'runs/update', {
      run_id: runId,
      status: update.status,
      end_time: update.endTime,
      run_name: update.runName,
    });
    return r.run_info;
  }

  async getRun(runId: string): Promise<MlflowRun> {
    return (await this.api<{ run: MlflowRun }>('GET', 'runs/get', { run_id: runId })).run;
  }

  async deleteRun(runId: string): Promise<void> {
    await this.api('POST', 'runs/delete', { run_id: runId });
  }

  /** All runs matching `filter` (MLflow search syntax), following page tokens. */
  async searchRuns(experimentIds: string[], filter = '', opts: { orderBy?: string[]; maxResults?: number; pageSize?: number } = {}): Promise<MlflowRun[]> {
    const out: MlflowRun[] = [];
    let pageToken: string | undefined;
    const limit = opts.maxResults ?? Infinity;
    do {
      const r = await this.api<{ runs?: MlflowRun[]; next_page_token?: string }>('POST', 'runs/search', {
        experiment_ids: experimentIds,
        filter,
        run_view_type: 'ACTIVE_ONLY',
        max_results: Math.min(opts.pageSize ?? 1000, limit - out.length),
        order_by: opts.orderBy,
        page_token: pageToken,
      });
      out.push(...(r.runs ?? []));
      pageToken = r.next_page_token || undefined;
    } while (pageToken && out.length < limit);
    return out;
  }

  /**
   * Sends one log-batch request as given. Callers that may exceed MLflow's per-request limits
   * use `logBatchChunked`.
   */
  async logBatch(runId: string, batch: LogBatch): Promise<void> {
    await this.api('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: (batch.metrics ?? []).map((m) => ({ ...m, value: encodeMetricValue(m.value) })),
      params: batch.params ?? [],
      tags: batch.tags ?? [],
    });
  }

  /** Splits a batch of any size into requests within MLflow's limits and sends them in order. */
  async logBatchChunked(runId: string, batch: LogBatch): Promise<number> {
    const chunks = chunkBatch(batch);
    for (const c of chunks) await this.logBatch(runId, c);
    return chunks.length;
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.api('POST', 'runs/set-tag', { run_id: runId, key, value });
  }

  async logInputs(runId: string, datasets: MlflowDatasetInput[]): Promise<void> {
    await this.api('POST', 'runs/log-inputs', { run_id: runId, datasets });
  }

  /** The full history of one metric (get-run only returns the latest value per key). */
  async getMetricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const out: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const r = await this.api<{ metrics?: MetricPoint[]; next_page_token?: string }>('GET', 'metrics/get-history', {
        run_id: runId,
        metric_key: key,
        max_results: 25_000,
        page_token: pageToken,
      });
      for (const m of r.metrics ?? []) out.push({ ...m, value: decodeMetricValue(m.value), step: Number(m.step ?? 0), timestamp: Number(m.timestamp) });
      pageToken = r.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  // ─── artifacts ──

  /** Lists one folder of a run's artifacts (not recursive), via the tracking API. */
  async listArtifacts(runId: string, dir = ''): Promise<ArtifactFile[]> {
    const r = await this.api<{ files?: ArtifactFile[] }>('GET', 'artifacts/list', { run_id: runId, path: dir || undefined });
    return r.files ?? [];
  }

  /** Every artifact file of a run, walking folders. */
  async listArtifactsRecursive(runId: string, dir = ''): Promise<ArtifactFile[]> {
    const out: ArtifactFile[] = [];
    for (const f of await this.listArtifacts(runId, dir)) {
      if (f.is_dir) out.push(...(await this.listArtifactsRecursive(runId, f.path)));
      else out.push(f);
    }
    return out;
  }

  /**
   * Uploads bytes as the artifact `relPath` of a run whose artifact URI is `artifactUri`.
   * Proxied URIs (`mlflow-artifacts:` and http) go through the tracking server; `file:` URIs
   * (a server started with --no-serve-artifacts on this machine) are written directly.
   */
  async uploadArtifact(artifactUri: string, relPath: string, data: Buffer): Promise<void> {
    const target = resolveArtifactTarget(artifactUri, relPath);
    if (target.kind === 'file') {
      await mkdir(path.dirname(target.path), { recursive: true });
      const { writeFile } = await import('node:fs/promises');
      await writeFile(target.path, data);
      return;
    }
    await this.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(target.path)}`, undefined, data);
  }

  /** Uploads a local file or a whole folder under `artifactDir` (a folder inside the run's artifacts). */
  async uploadArtifactPath(artifactUri: string, localPath: string, artifactDir = '', onSymlink?: (skipped: string) => void): Promise<number> {
    const st = await lstat(localPath);
    if (st.isSymbolicLink()) {
      // A link is not followed: it could lead anywhere on this machine.
      onSymlink?.(localPath);
      return 0;
    }
    const base = path.basename(localPath);
    const dest = artifactDir ? `${artifactDir.replace(/\/+$/, '')}/${base}` : base;
    if (!st.isDirectory()) {
      const target = resolveArtifactTarget(artifactUri, dest);
      if (target.kind === 'file') {
        await mkdir(path.dirname(target.path), { recursive: true });
        await copyFile(localPath, target.path);
      } else {
        await this.uploadArtifact(artifactUri, dest, await readFile(localPath));
      }
      return 1;
    }
    let n = 0;
    for (const entry of await readdir(localPath)) n += await this.uploadArtifactPath(artifactUri, path.join(localPath, entry), dest, onSymlink);
    return n;
  }

  /** Downloads one artifact through the proxy (for tests and reports). */
  async downloadArtifact(artifactUri: string, relPath: string): Promise<Buffer> {
    const target = resolveArtifactTarget(artifactUri, relPath);
    if (target.kind === 'file') return readFile(target.path);
    const t = refTimeout(this.opts.timeoutMs);
    try {
      const res = await this.fetch(`${this.trackingUri}/api/2.0/mlflow-artifacts/artifacts/${encodePath(target.path)}`, {
        headers: this.opts.headers,
        signal: t.signal,
      });
      if (!res.ok) throw parseError(res.status, await res.text(), `GET artifact ${relPath}`);
      return Buffer.from(await res.arrayBuffer());
    } finally {
      t.clear();
    }
  }
}

// ─── helpers ─────────────────────────────────────────────────────────────────────────────────

export function toKv(record: Record<string, string>): KeyValue[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }));
}

export function fromKv(list: readonly KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list ?? []) out[key] = value;
  return out;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Parses MLflow's `{error_code, message}` defensively: proxies and old servers answer HTML. */
function parseError(status: number, text: string, endpoint: string): MlflowError {
  try {
    const j = JSON.parse(text) as { error_code?: string; message?: string };
    if (j && typeof j === 'object' && (j.error_code || j.message)) {
      return new MlflowError(status, j.error_code ?? `HTTP_${status}`, j.message ?? text, endpoint);
    }
  } catch {
    /* not JSON: fall through */
  }
  const snippet = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  return new MlflowError(status, `HTTP_${status}`, `HTTP ${status}${snippet ? `: ${snippet}` : ''}`, endpoint);
}

type ArtifactTarget = { kind: 'proxy'; path: string } | { kind: 'file'; path: string };

/** Where the artifact `relPath` of a run with artifact URI `artifactUri` lives. */
export function resolveArtifactTarget(artifactUri: string, relPath: string): ArtifactTarget {
  const rel = relPath.replace(/^\/+/, '');
  if (artifactUri.startsWith('mlflow-artifacts:')) {
    // mlflow-artifacts:/1/abc/artifacts or mlflow-artifacts://host:port/1/abc/artifacts
    const rest = artifactUri.replace(/^mlflow-artifacts:(\/\/[^/]+)?/, '').replace(/^\/+/, '');
    return { kind: 'proxy', path: rel ? `${rest}/${rel}` : rest };
  }
  if (/^https?:\/\//.test(artifactUri)) {
    const u = new URL(artifactUri);
    const rest = u.pathname.replace(/^\/api\/2\.0\/mlflow-artifacts\/artifacts\/?/, '').replace(/^\/+/, '');
    return { kind: 'proxy', path: rel ? `${rest}/${rel}` : rest };
  }
  if (artifactUri.startsWith('file:') || artifactUri.startsWith('/')) {
    const dir = artifactUri.startsWith('file:') ? fileURLToPath(artifactUri) : artifactUri;
    return { kind: 'file', path: path.join(dir, rel) };
  }
  throw new AblateError('tracking.artifact-store', `artifact URI '${artifactUri}' needs direct access to a cloud store, which ablate does not support`, {
    hint: 'run `mlflow server` with artifact proxying (the default, --serve-artifacts)',
  });
}

/** Approximate JSON size of one entity in a log-batch body. */
function entityBytes(e: MetricPoint | KeyValue): number {
  return Buffer.byteLength(JSON.stringify(e)) + 1;
}

/**
 * Splits a batch into requests that respect every log-batch limit: at most 1000 metrics, 100
 * params, 100 tags, 1000 entities and ~1 MB each, and no param key twice in one request (the
 * server refuses that even for equal values).
 */
export function chunkBatch(batch: LogBatch): LogBatch[] {
  const chunks: LogBatch[] = [];
  let cur: Required<LogBatch> = { metrics: [], params: [], tags: [] };
  let bytes = 64;
  let paramKeys = new Set<string>();
  const flush = () => {
    if (cur.metrics.length + cur.params.length + cur.tags.length > 0) chunks.push(cur);
    cur = { metrics: [], params: [], tags: [] };
    bytes = 64;
    paramKeys = new Set();
  };
  const add = (kind: 'metrics' | 'params' | 'tags', e: MetricPoint | KeyValue, limit: number) => {
    const b = entityBytes(e);
    const total = cur.metrics.length + cur.params.length + cur.tags.length;
    const dupParam = kind === 'params' && paramKeys.has(e.key);
    if (cur[kind].length >= limit || total >= LIMITS.batchEntities || bytes + b > LIMITS.batchBytes - 1024 || dupParam) flush();
    (cur[kind] as (MetricPoint | KeyValue)[]).push(e);
    if (kind === 'params') paramKeys.add(e.key);
    bytes += b;
  };
  // Params and tags first so a run's identity is on the server before its metrics.
  for (const p of batch.params ?? []) add('params', p, LIMITS.batchParams);
  for (const t of batch.tags ?? []) add('tags', t, LIMITS.batchTags);
  for (const m of batch.metrics ?? []) add('metrics', m, LIMITS.batchMetrics);
  flush();
  return chunks;
}
