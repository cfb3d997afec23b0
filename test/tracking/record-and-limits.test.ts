/** The parts of tracking that need no server: limits, chunking, the local record, trackers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordWriter, readRecord } from '../../src/tracking/record.js';
import { encodeMetricValue, decodeMetricValue } from '../../src/tracking/metric-values.js';
import { trackingWith } from '../../src/tracking/open.js';
import { syncRuns } from '../../src/tracking/sync.js';
import { runNameFromDiff } from '../../src/tracking/params.js';
import { MlflowClient, chunkBatch } from '../../plugins/trackers/mlflow/client.js';
import { LIMITS, isValidKey, sanitizeKey } from '../../plugins/trackers/mlflow/limits.js';
import { consoleSink } from '../../plugins/trackers/console.js';
import { MlflowSink } from '../../plugins/trackers/mlflow/index.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'ablate-rec-'));

test('keys: MLflow rules accepted and repaired', () => {
  for (const k of ['train/loss', 'model.depth', 'lr group-0', 'iou/aeroplane']) assert.ok(isValidKey(k), k);
  for (const k of ['', '/a', 'a/', 'a//b', 'a/../b', 'x:y', 'é', 'a'.repeat(251)]) assert.ok(!isValidKey(k), k);
  for (const k of ['/a', 'a//b', 'x:y', 'a/../b', 'naïve key', 'z'.repeat(300)]) assert.ok(isValidKey(sanitizeKey(k)), `${k} -> ${sanitizeKey(k)}`);
});

test('non-finite metric values are encoded as protobuf-JSON strings and back', () => {
  assert.equal(encodeMetricValue(NaN), 'NaN');
  assert.equal(encodeMetricValue(Infinity), 'Infinity');
  assert.equal(encodeMetricValue(-Infinity), '-Infinity');
  assert.equal(encodeMetricValue(1.5), 1.5);
  assert.ok(Number.isNaN(decodeMetricValue('NaN')));
  assert.equal(decodeMetricValue('-Infinity'), -Infinity);
});

test('chunkBatch respects 1000 metrics / 100 params / 100 tags / 1000 entities / 1 MB and unique param keys', () => {
  const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: `m${i % 3}`, value: i, timestamp: 1, step: i }));
  const params = Array.from({ length: 230 }, (_, i) => ({ key: `p${i}`, value: 'x' }));
  params.push({ key: 'p0', value: 'x' }); // same key again must not share a request
  const tags = Array.from({ length: 150 }, (_, i) => ({ key: `t${i}`, value: 'y'.repeat(7000) }));
  const chunks = chunkBatch({ metrics, params, tags });
  let m = 0;
  let p = 0;
  let t = 0;
  for (const c of chunks) {
    const nm = c.metrics?.length ?? 0;
    const np = c.params?.length ?? 0;
    const nt = c.tags?.length ?? 0;
    assert.ok(nm <= LIMITS.batchMetrics && np <= LIMITS.batchParams && nt <= LIMITS.batchTags && nm + np + nt <= LIMITS.batchEntities);
    assert.ok(Buffer.byteLength(JSON.stringify(c)) < LIMITS.batchBytes, 'under 1 MB');
    assert.equal(new Set(c.params?.map((x) => x.key)).size, np, 'no param key twice in one request');
    m += nm;
    p += np;
    t += nt;
  }
  assert.deepEqual([m, p, t], [2500, 231, 150]);
  // Order is kept within each kind.
  assert.deepEqual(chunks.flatMap((c) => c.metrics ?? []).map((x) => x.step), metrics.map((x) => x.step));
});

test('record: events round-trip, params are write-once, artifacts are copied', () => {
  const dir = tmp();
  const w = new RecordWriter(dir, { name: 'r', experiment: 'e' });
  const warnings: string[] = [];
  w.warn = (m) => void warnings.push(m);
  w.logParams({ a: '1', b: 'x' });
  w.logParams({ a: '1' });
  w.logParams({ a: '2' });
  w.setTags({ k: 'v' });
  w.logMetrics(0, { loss: 2, weird: NaN });
  w.logMetrics(1, { loss: 1 }, 1234);
  const f = path.join(dir, 'file.txt');
  writeFileSync(f, 'first');
  w.logArtifact(f, 'sub/dir');
  writeFileSync(f, 'changed later'); // the record keeps what was logged
  w.end('FINISHED');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /param 'a'/);
  const rec = readRecord(dir);
  assert.equal(rec.status, 'FINISHED');
  assert.deepEqual(rec.params, { a: '1', b: 'x' });
  assert.equal(rec.tags.k, 'v');
  assert.deepEqual(rec.metrics.loss!.map((p) => [p.step, p.value]), [[0, 2], [1, 1]]);
  assert.equal(rec.metrics.loss![1]!.timestamp, 1234);
  assert.ok(Number.isNaN(rec.metrics.weird![0]!.value));
  assert.deepEqual(rec.artifacts, ['sub/dir/file.txt']);
  assert.equal(readFileSync(path.join(dir, 'tracking/artifacts/sub/dir/file.txt'), 'utf8'), 'first');
  assert.throws(() => w.logMetrics(2, { loss: 0 }), /has ended/);
  assert.throws(() => new RecordWriter(dir, { name: 'again', experiment: 'e' }), /already holds a tracking record/);
  assert.throws(() => w.logArtifact(f, '../escape'));
});

test('record: a continued run keeps its id and params, drops a cut-off last line, and files recomputed points apart', () => {
  const dir = tmp();
  const w = new RecordWriter(dir, { name: 'r', experiment: 'e' });
  w.logParams({ lr: '0.5' });
  for (let step = 0; step < 5; step++) w.logMetrics(step, { loss: 10 - step });
  w.logMetrics(3, { sys: 1 });
  // Its process (this one, alive) still writes it: continuing is refused.
  assert.throws(() => RecordWriter.continue(dir), (e: unknown) => (e as { code?: string }).code === 'tracking.record-in-use');
  w.end('KILLED');
  // A process that died while writing a line: the cut-off line was never an event.
  const file = path.join(dir, 'tracking', 'record.jsonl');
  writeFileSync(file, `${readFileSync(file, 'utf8')}{"t":"metrics","st`);

  const c = RecordWriter.continue(dir, { iteration: 3 });
  const warnings: string[] = [];
  c.warn = (m) => void warnings.push(m);
  assert.equal(c.id, w.id);
  assert.deepEqual(c.resumed && [c.resumed.t, c.resumed.iteration, c.resumed.pid], ['resume', 3, process.pid]);
  assert.equal(readRecord(dir).status, 'RUNNING', 'running again');
  c.logParams({ lr: '0.5', extra: 'new' });
  c.logParams({ lr: '0.1' });
  for (let step = 3; step < 7; step++) c.logMetrics(step, { loss: 100 + step, sys: step });
  c.end('FINISHED');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /param 'lr' was already logged as '0\.5'/);
  const rec = readRecord(dir);
  assert.equal(rec.status, 'FINISHED');
  assert.deepEqual(rec.params, { lr: '0.5', extra: 'new' });
  assert.deepEqual(rec.resumes.map((r) => r.iteration), [3]);
  // The first point of a (key, step) stays the run's: loss 3 and 4 from the first attempt, sys 3 too.
  assert.deepEqual(rec.metrics.loss!.map((p) => [p.step, p.value]), [[0, 10], [1, 9], [2, 8], [3, 7], [4, 6], [5, 105], [6, 106]]);
  assert.deepEqual(rec.metrics.sys!.map((p) => [p.step, p.value]), [[3, 1], [4, 4], [5, 5], [6, 6]]);
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; step?: number; m?: object });
  assert.deepEqual(lines.filter((e) => e.t === 'recomputed').map((e) => [e.step, e.m]), [[3, { loss: 103, sys: 3 }], [4, { loss: 104 }]]);
  assert.throws(() => RecordWriter.continue(path.join(dir, 'nothing-here')), /holds no tracking record to continue/);
});

test('the record is written with no sink and with the console sink, which prints what is recorded', async () => {
  const lines: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  for (const sinks of [[], [{ name: 'console', sink: consoleSink({ write: (l) => void lines.push(l) }) }]]) {
    const tracking = trackingWith(sinks, log);
    const dir = tmp();
    const run = await tracking.startRun({ name: 'n', experiment: 'e', params: { 'model.depth': '18' }, tags: { x: 'y' }, runDir: dir });
    run.logMetrics(3, { loss: 0.5 });
    await run.end('FINISHED');
    await tracking.close();
    const rec = readRecord(dir);
    assert.equal(rec.id, run.id);
    assert.equal(rec.params['model.depth'], '18');
    assert.equal(rec.tags.x, 'y');
    assert.equal(rec.status, 'FINISHED');
  }
  assert.ok(lines.some((l) => l.startsWith('run n (experiment e)')), lines.join('\n'));
  assert.ok(lines.some((l) => l === 'n: 1 params'), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('step 3') && l.includes('loss=0.5000')), lines.join('\n'));
  assert.equal(lines.at(-1), 'n: FINISHED');
});

test('a sink that throws costs a warning, never a recorded value, and the other sinks go on', async () => {
  const warnings: string[] = [];
  const seen: string[] = [];
  const log = { info: () => undefined, warn: (m: string) => void warnings.push(m), debug: () => undefined };
  const broken = { startRun: async () => ({ event: () => { throw new Error('disk full'); } }) };
  const failsToStart = { startRun: async (): Promise<never> => { throw new Error('no server'); } };
  const counting = { startRun: async () => ({ event: (e: { t: string }) => void seen.push(e.t) }) };
  const tracking = trackingWith([{ name: 'trackers.0', sink: broken }, { name: 'trackers.1', sink: failsToStart }, { name: 'trackers.2', sink: counting }], log);
  const dir = tmp();
  const run = await tracking.startRun({ name: 'n', experiment: 'e', params: { a: '1' }, tags: {}, runDir: dir });
  for (let i = 0; i < 5; i++) run.logMetrics(i, { loss: i });
  await run.end('FINISHED');
  await tracking.close();
  assert.equal(readRecord(dir).metrics.loss!.length, 5);
  assert.deepEqual(seen, ['start', 'params', 'metrics', 'metrics', 'metrics', 'metrics', 'metrics', 'end'], 'every event, in order, from start on');
  assert.equal(warnings.filter((w) => w.includes('trackers.0') && w.includes('disk full')).length, 1, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('trackers.1') && w.includes('no server')), warnings.join('\n'));
});

test('mlflow sink with an unreachable server: logging stays local and fast, nothing is lost', async () => {
  const warnings: string[] = [];
  // Port 9 (discard) on loopback: nothing listens, connections are refused at once.
  const log = { info: () => undefined, warn: (m: string) => void warnings.push(m), debug: () => undefined };
  const sink = new MlflowSink({ trackingUri: 'http://127.0.0.1:9', log, startTimeoutMs: 3000, flushTimeoutMs: 500, intervalMs: 50 });
  const tracking = trackingWith([{ name: 'mlflow', sink }], log);
  const dir = tmp();
  const run = await tracking.startRun({ name: 'offline', experiment: 'e', params: {}, tags: {}, runDir: dir });
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) run.logMetrics(i, { loss: i });
  const ms = performance.now() - t0;
  assert.ok(ms < 1500, `2000 logMetrics calls took ${ms} ms`);
  await run.end('FINISHED');
  await tracking.close();
  assert.equal(readRecord(dir).metrics.loss!.length, 2000);
  assert.ok(warnings.some((w) => w.includes('ablate sync')), warnings.join('\n'));
});

test('sync to an unreachable server: the first run fails clearly, the others are not attempted, records untouched', async () => {
  const root = tmp();
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  const tracking = trackingWith([], log);
  const parent = await tracking.startRun({ name: 'sweep', experiment: 'e', params: {}, tags: {}, runDir: root });
  for (const c of ['a', 'b']) {
    const run = await tracking.startRun({ name: c, experiment: 'e', params: {}, tags: {}, runDir: path.join(root, c), parentRunId: parent.id });
    run.logMetrics(0, { loss: 1 });
    await run.end('FINISHED');
  }
  await parent.end('FINISHED');
  const before = ['', 'a', 'b'].map((d) => readFileSync(path.join(root, d, 'tracking', 'record.jsonl'), 'utf8'));
  const sink = new MlflowSink({ trackingUri: 'http://127.0.0.1:9', log });
  const results = await syncRuns(root, { name: 'mlflow', sink }, { warn: () => undefined });
  await sink.close();
  assert.deepEqual(results.map((r) => [r.name, r.outcome]), [['sweep', 'failed'], ['a', 'failed'], ['b', 'failed']]);
  assert.match(results[0]!.error!, /cannot reach http:\/\/127\.0\.0\.1:9/);
  for (const r of results.slice(1)) assert.match(r.error!, /not attempted: http:\/\/127\.0\.0\.1:9 is unreachable/);
  assert.deepEqual(['', 'a', 'b'].map((d) => readFileSync(path.join(root, d, 'tracking', 'record.jsonl'), 'utf8')), before);
});

test('finding run folders does not follow symbolic links out of the folder', async () => {
  const { symlinkSync } = await import('node:fs');
  const { findRunDirs } = await import('../../src/tracking/sync.js');
  const root = tmp();
  const elsewhere = tmp();
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  for (const d of [path.join(root, 'mine'), path.join(elsewhere, 'theirs')]) await (await trackingWith([], log).startRun({ name: path.basename(d), experiment: 'e', params: {}, tags: {}, runDir: d })).end('FINISHED');
  symlinkSync(elsewhere, path.join(root, 'link'));
  assert.deepEqual(findRunDirs(root).map((d) => path.relative(root, d)), ['mine']);
});

test('URL credentials in params and tags never reach the record', () => {
  const dir = tmp();
  const w = new RecordWriter(dir, { name: 'n', experiment: 'e' });
  w.logParams({ 'trackers.0.tracking_uri': 'https://me:s3cret@mlflow.example.org:5000/', 'data.url': 'http://token@host/x', plain: 'a@b.c' });
  w.setTags({ 'ablate.command': 'run x.yaml --set trackers.0.tracking_uri=http://u:p@h:1' });
  w.end('FINISHED');
  const text = readFileSync(path.join(dir, 'tracking', 'record.jsonl'), 'utf8');
  for (const secret of ['s3cret', 'me:', 'token@', 'u:p@']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
  const rec = readRecord(dir);
  assert.equal(rec.params['trackers.0.tracking_uri'], 'https://***@mlflow.example.org:5000/');
  assert.equal(rec.params['data.url'], 'http://***@host/x');
  assert.equal(rec.params.plain, 'a@b.c');
  assert.equal(rec.tags['ablate.command'], 'run x.yaml --set trackers.0.tracking_uri=http://***@h:1');
});

test('client: bad tracking URIs are clear user errors', () => {
  assert.throws(() => new MlflowClient('sqlite:///x.db'), /not an http\(s\) URL/);
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  assert.throws(() => new MlflowSink({ trackingUri: 'file:///tmp/mlruns', log }), /not an http\(s\) server/);
});

test('run names from a sweep cell diff', () => {
  assert.equal(runNameFromDiff({ dataset: { labeled_fraction: 0.125 }, trainer: { type: 'adversarial' } }), 'labeled_fraction=0.125,type=adversarial');
});

test('auto tracker: mlflow when a tracking URI is set, the record alone otherwise', async () => {
  const { autoTracker } = await import('../../plugins/trackers/auto.js');
  const infos: string[] = [];
  const ctx = { log: { info: (m: string) => void infos.push(m), warn: () => undefined, debug: () => undefined } } as unknown as Parameters<typeof autoTracker.create>[1];
  const saved = process.env.MLFLOW_TRACKING_URI;
  try {
    delete process.env.MLFLOW_TRACKING_URI;
    const local = await autoTracker.create({}, ctx);
    assert.ok(!(local instanceof MlflowSink));
    assert.ok(infos.some((m) => m.includes('MLFLOW_TRACKING_URI')));
    process.env.MLFLOW_TRACKING_URI = 'http://127.0.0.1:9';
    const remote = await autoTracker.create({}, ctx);
    assert.ok(remote instanceof MlflowSink);
    assert.equal(remote.client.trackingUri, 'http://127.0.0.1:9');
  } finally {
    if (saved === undefined) delete process.env.MLFLOW_TRACKING_URI;
    else process.env.MLFLOW_TRACKING_URI = saved;
  }
});
