/**
 * The report's runs read from an MLflow server (the report itself, src/report/, takes any list of
 * runs): a sweep's parent run and its children, or every run of an experiment. Metric values are
 * aggregated like local records' (`last` from the run, `max`/`min` from the metric history).
 */
import { AblateError } from '../errors.js';
import { aggregateSeries, type Aggregate, type ReportRun } from '../report/runs.js';
import { MlflowClient, fromKv, type MlflowRun } from './mlflow-client.js';
import { RUN_ID_TAG } from './shipper.js';

async function fromMlflow(client: MlflowClient, run: MlflowRun, metricKeys: readonly string[] | undefined, how: Aggregate): Promise<ReportRun> {
  const tags = fromKv(run.data.tags);
  const metrics: Record<string, number> = {};
  for (const m of run.data.metrics ?? []) {
    // get/search return only the latest value; other aggregates need the history.
    if (how === 'last' || (metricKeys ? !metricKeys.includes(m.key) : m.key.includes('/'))) metrics[m.key] = Number(m.value);
    else metrics[m.key] = aggregateSeries(await client.getMetricHistory(run.info.run_id, m.key), how);
  }
  return {
    id: run.info.run_id,
    name: run.info.run_name ?? run.info.run_id,
    parent: tags['mlflow.parentRunId'],
    status: run.info.status,
    startTime: Number(run.info.start_time ?? 0),
    params: fromKv(run.data.params),
    tags,
    metrics,
  };
}

/**
 * Runs from an MLflow server: `target` is a sweep's parent run (MLflow run id, or ablate's
 * client run id) whose children are read, or an experiment name (all its runs).
 */
export async function runsFromMlflow(trackingUri: string, target: string, spec: { metric?: readonly string[]; aggregate: Aggregate }): Promise<{ runs: ReportRun[]; title: string }> {
  const client = new MlflowClient(trackingUri, { maxRetries: 3 });
  const exp = await client.getExperimentByName(target);
  if (exp) {
    const runs = await client.searchRuns([exp.experiment_id]);
    return { runs: await Promise.all(runs.map((r) => fromMlflow(client, r, spec.metric, spec.aggregate))), title: `experiment ${target}` };
  }
  if (/^[0-9a-f]{32}$/i.test(target)) {
    let parent: MlflowRun | undefined;
    try {
      parent = await client.getRun(target);
    } catch {
      parent = undefined;
    }
    if (!parent) {
      // Maybe ablate's own run id: search every experiment for the tag.
      const exps = await client.searchRuns(['0'], `tags.\`${RUN_ID_TAG}\` = '${target}'`).catch(() => []);
      parent = exps[0];
    }
    if (parent) {
      const kids = await client.searchRuns([parent.info.experiment_id], `tags.\`mlflow.parentRunId\` = '${parent.info.run_id}'`);
      // The parent run too: it carries the sweep's axes (the report leaves it out of the table).
      return { runs: await Promise.all([parent, ...kids].map((r) => fromMlflow(client, r, spec.metric, spec.aggregate))), title: parent.info.run_name ?? target };
    }
  }
  throw new AblateError('report.not-found', `'${target}' is neither a run folder, an experiment on ${trackingUri}, nor a run id there`, {
    hint: 'pass a sweep run folder, an experiment name, or the MLflow run id of a sweep parent',
  });
}
