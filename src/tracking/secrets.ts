/**
 * Credentials never reach a run's record (and so no tracker): a URL's `user:password@` part in a
 * param or tag value is masked. Servers take credentials from the environment instead
 * (MLFLOW_TRACKING_USERNAME/PASSWORD, tokens), which ablate never records.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+(?::[^\s/@]*)?@/gi;

/** `https://me:pw@host/x` → `https://***@host/x`; anything else unchanged. */
export function maskUrlCredentials(value: string): string {
  return value.replace(URL_CREDENTIALS, '$1***@');
}
