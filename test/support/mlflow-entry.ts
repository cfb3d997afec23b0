/**
 * A `trackers:` entry for the mlflow plugin as a loaded config has it. Configs built in tests skip
 * the config pipeline, which fills in every option's schema default; without them the sink's
 * start timeout is NaN ms, so a run would not wait for its MLflow run to be created or reopened
 * (a resumed run was seen still KILLED on the server mid-attempt, on a loaded machine).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { mlflowTracker } from '../../plugins/trackers/mlflow/index.js';

const fillDefaults = new Ajv2020({ useDefaults: true, strict: false }).compile(mlflowTracker.options);

export function mlflowEntry(uri: string, options: Record<string, unknown> = {}): Record<string, unknown> {
  const entry: Record<string, unknown> = { tracking_uri: uri, flush_interval_ms: 200, ...options };
  if (!fillDefaults(entry)) throw new Error(`mlflow tracker options: ${JSON.stringify(fillDefaults.errors)}`);
  return { type: 'mlflow', ...entry };
}
