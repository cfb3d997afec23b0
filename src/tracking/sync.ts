/**
 * `ablate sync`: replays local run records to an MLflow server. Idempotent: a run already on the
 * server (found by its `ablate.run_id` tag) is resumed from the saved offset, or re-sent from the
 * start into the same MLflow run when this machine has no saved state for that server.
 */
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { MlflowClient, MlflowError } from './mlflow-client.js';
import { isRunDir, readRecord, recordPaths, writerAlive, type RunRecord } from './record.js';
import { Shipper, findRunByClientId } from './shipper.js';

export interface SyncOptions {
  trackingUri: string;
  log?: (line: string) => void;
  warn?: (line: string) => void;
}

export interface SyncResult {
  runDir: string;
  name: string;
  outcome: 'shipped' | 'up-to-date' | 'skipped-running' | 'failed';
  mlflowRunId?: string;
  requests: number;
  error?: string;
}

/** Every run folder at or below `root` (a folder holding tracking/record.jsonl). */
export function findRunDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (isRunDir(dir)) out.push(dir);
    if (depth > 8) return;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e === 'node_modules' || e === '.git' || e === 'tracking' || e.startsWith('.')) continue;
      const p = path.join(dir, e);
      try {
        if (statSync(p).isDirectory()) walk(p, depth + 1);
      } catch {
        /* vanished */
      }
    }
  };
  walk(path.resolve(root), 0);
  return out;
}

/** Orders records so that every parent comes before its children. */
export function parentsFirst(records: RunRecord[]): RunRecord[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const depth = (r: RunRecord, seen = new Set<string>()): number => {
    if (!r.parent || !byId.has(r.parent) || seen.has(r.id)) return 0;
    seen.add(r.id);
    return 1 + depth(byId.get(r.parent)!, seen);
  };
  return [...records].sort((a, b) => depth(a) - depth(b) || a.startTime - b.startTime);
}

export async function syncRuns(target: string, opts: SyncOptions): Promise<SyncResult[]> {
  const log = opts.log ?? (() => undefined);
  const warn = opts.warn ?? ((l: string) => process.stderr.write(`warning: ${l}\n`));
  let dirs: string[];
  try {
    dirs = findRunDirs(target);
    statSync(target);
  } catch {
    throw new AblateError('sync.not-found', `${target} does not exist`, { where: { file: target } });
  }
  if (dirs.length === 0) {
    throw new AblateError('sync.no-runs', `no run records under ${target}`, {
      where: { file: target },
      hint: 'pass a run folder (one holding tracking/record.jsonl) or a folder of runs',
    });
  }
  const client = new MlflowClient(opts.trackingUri, { maxRetries: 3, backoffMs: 500, timeoutMs: 30_000 });
  const records = parentsFirst(dirs.map((d) => readRecord(d)));
  const mlflowIds = new Map<string, string>();
  const results: SyncResult[] = [];
  for (const rec of records) {
    if (rec.status === 'RUNNING') {
      if (writerAlive(rec)) {
        log(`skip ${rec.name}: still running (pid ${rec.pid})`);
        results.push({ runDir: rec.runDir, name: rec.name, outcome: 'skipped-running', requests: 0 });
        continue;
      }
      // The process that wrote it died without ending the run: close the record as KILLED.
      appendFileSync(recordPaths(rec.runDir).file, `${JSON.stringify({ t: 'tags', tags: { 'ablate.incomplete': 'true' } })}\n${JSON.stringify({ t: 'end', status: 'KILLED', time: Date.now() })}\n`);
      warn(`${rec.name}: its process ended without finishing the run; synced as KILLED`);
    }
    const shipper = new Shipper({
      client,
      runDir: rec.runDir,
      resolveParent: async (p, e) => mlflowIds.get(p) ?? findRunByClientId(client, e, p),
      warn,
    });
    const wasDone = shipper.done;
    try {
      await shipper.pump();
      if (shipper.mlflowRunId) mlflowIds.set(rec.id, shipper.mlflowRunId);
      results.push({ runDir: rec.runDir, name: rec.name, outcome: wasDone ? 'up-to-date' : 'shipped', mlflowRunId: shipper.mlflowRunId, requests: shipper.stats.requests });
      log(`${wasDone ? 'up to date' : 'synced'}: ${rec.name} -> run ${shipper.mlflowRunId} (${shipper.stats.requests} requests)`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      results.push({ runDir: rec.runDir, name: rec.name, outcome: 'failed', requests: shipper.stats.requests, error: msg });
      warn(`${rec.name}: ${msg}`);
      if (e instanceof MlflowError && e.status === 0) {
        // The server is unreachable: trying every other run would only repeat the same wait.
        for (const rest of records.slice(records.indexOf(rec) + 1)) {
          results.push({ runDir: rest.runDir, name: rest.name, outcome: 'failed', requests: 0, error: 'not attempted (server unreachable)' });
        }
        break;
      }
    }
  }
  return results;
}
