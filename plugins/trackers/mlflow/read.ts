/**
 * Reading runs back from an MLflow server (`ablate report <experiment | sweep run id>`): an
 * experiment by name (all its runs), or a sweep's parent run (its children) by MLflow run id or by
 * ablate's client run id (the `ablate.run_id` tag), searched in every experiment of the server.
 */
import { AblateError, decodeMetricValue, type TrackedRun } from '../../../src/index.js';
import { MlflowError, fromKv, type MlflowClient, type MlflowRun } from './client.js';
import { recordMetricKey } from './metric-names.js';
import { RUN_ID_TAG } from './shipper.js';

/** runs/search takes a list of experiment ids; ask in slices so a large server never gets one huge request. */
const IDS_PER_SEARCH = 100;

export async function readRuns(client: MlflowClient, target: string, opts: { history(metricKey: string): boolean }): Promise<{ title: string; runs: TrackedRun[] }> {
  const read = (runs: MlflowRun[]) => Promise.all(runs.map((r) => toTrackedRun(client, r, opts.history)));
  const exp = await client.getExperimentByName(target);
  if (exp) return { title: `experiment ${target}`, runs: await read(await client.searchRuns([exp.experiment_id])) };
  if (/^[0-9a-f]{32}$/i.test(target)) {
    const parent = (await runById(client, target)) ?? (await runByClientId(client, target));
    if (parent) {
      const kids = await client.searchRuns([parent.info.experiment_id], `tags.\`mlflow.parentRunId\` = '${parent.info.run_id}'`);
      // The parent run too: it carries the sweep's axes (the report leaves it out of the table).
      return { title: parent.info.run_name ?? target, runs: await read([parent, ...kids]) };
    }
  }
  throw new AblateError('report.not-found', `'${target}' is neither an experiment on ${client.trackingUri}, nor a run id there (MLflow's or ablate's)`, {
    hint: 'pass a sweep run folder, an experiment name, or the run id of a sweep parent',
  });
}

/** The run with this MLflow run id, or undefined when the server has none (other errors are thrown). */
async function runById(client: MlflowClient, runId: string): Promise<MlflowRun | undefined> {
  try {
    return await client.getRun(runId);
  } catch (e) {
    if (e instanceof MlflowError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw e;
  }
}

/** The run whose `ablate.run_id` tag is `clientId`, searched in every active experiment. */
async function runByClientId(client: MlflowClient, clientId: string): Promise<MlflowRun | undefined> {
  const ids = (await client.searchExperiments()).map((e) => e.experiment_id);
  for (let i = 0; i < ids.length; i += IDS_PER_SEARCH) {
    const hit = await client.searchRuns(ids.slice(i, i + IDS_PER_SEARCH), `tags.\`${RUN_ID_TAG}\` = '${clientId}'`, { maxResults: 1 });
    if (hit[0]) return hit[0];
  }
  return undefined;
}

async function toTrackedRun(client: MlflowClient, run: MlflowRun, history: (metricKey: string) => boolean): Promise<TrackedRun> {
  const tags = fromKv(run.data.tags);
  const metrics: TrackedRun['metrics'] = {};
  for (const m of run.data.metrics ?? []) {
    // Also under the record's name (`val/miou` → `miou`), so a report asks for the same metric
    // whether its runs come from folders, from this server, or were shipped before the prefixes.
    const plain = recordMetricKey(m.key);
    // get/search return only the latest value of each metric; the history costs a request per key.
    const points = history(m.key) || (plain !== undefined && history(plain))
      ? (await client.getMetricHistory(run.info.run_id, m.key)).map((p) => ({ step: Number(p.step ?? 0), timestamp: Number(p.timestamp), value: decodeMetricValue(p.value) }))
      : [{ step: Number(m.step ?? 0), timestamp: Number(m.timestamp), value: decodeMetricValue(m.value) }];
    metrics[m.key] = points;
    if (plain !== undefined && !(run.data.metrics ?? []).some((o) => o.key === plain)) metrics[plain] = points;
  }
  return {
    id: run.info.run_id,
    name: run.info.run_name ?? run.info.run_id,
    ...(tags['mlflow.parentRunId'] ? { parent: tags['mlflow.parentRunId'] } : {}),
    status: run.info.status,
    startTime: Number(run.info.start_time ?? 0),
    params: fromKv(run.data.params),
    tags,
    metrics,
  };
}
