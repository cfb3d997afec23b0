/**
 * The tracking server URL for commands that read a server directly (`ablate report` on a remote
 * target). Temporary: the reading moves into the MLflow tracker plugin.
 */
import { AblateError } from '../errors.js';

export function resolveTrackingUri(explicit?: string): string {
  const uri = explicit ?? process.env.MLFLOW_TRACKING_URI;
  if (!uri) {
    throw new AblateError('tracking.no-uri', 'no tracking URI', {
      hint: 'pass --tracking-uri or set MLFLOW_TRACKING_URI (e.g. http://127.0.0.1:5000)',
    });
  }
  return uri;
}
