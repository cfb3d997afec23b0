/**
 * The report's runs read back from a tracker that can (`TrackingSink.readRuns`, e.g. a tracking
 * server's): a sweep's parent run and its children, or every run of an experiment. Metric values
 * are aggregated like local records' (`last` from the run, `max`/`min`/`mean` and step windows from the metric history,
 * which is fetched only for the keys the report may need).
 */
import { AblateError } from '../errors.js';
import type { TrackingSink } from '../plugin/contracts.js';
import { aggregateSeries, type Aggregate, type ReportRun, type StepWindow } from './runs.js';

export async function runsFromTracker(
  sink: TrackingSink,
  sinkName: string,
  target: string,
  spec: { metric?: readonly string[]; aggregate: Aggregate; steps?: StepWindow },
): Promise<{ runs: ReportRun[]; title: string }> {
  if (!sink.readRuns) {
    throw new AblateError('report.unsupported', `the '${sinkName}' tracker cannot read runs back`, { hint: 'pass a run folder, or --from a tracker that reads runs (`ablate plugins tracker`)' });
  }
  const metric = spec.metric;
  // Without a --metric the headline is a scalar without '/' (evaluation.headline's default).
  const history = (key: string) => (spec.aggregate !== 'last' || spec.steps !== undefined) && (metric ? metric.includes(key) : !key.includes('/'));
  const got = await sink.readRuns(target, { history });
  const runs = got.runs.map((r): ReportRun => {
    const metrics: Record<string, number> = {};
    for (const [k, pts] of Object.entries(r.metrics)) metrics[k] = aggregateSeries(pts, spec.aggregate, spec.steps);
    return { id: r.id, name: r.name, ...(r.parent ? { parent: r.parent } : {}), status: r.status, startTime: r.startTime, params: r.params, tags: r.tags, metrics };
  });
  return { runs, title: got.title };
}
