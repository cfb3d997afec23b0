/**
 * MLflow's server-side limits (mlflow/utils/validation.py, 3.x) and the client-side checks that
 * keep a request from being rejected or silently truncated. Kept in one place so the client, the
 * shipper and the tests agree on them.
 */
export const LIMITS = {
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchEntities: 1000,
  /** JSON body of one log-batch; we stay below 1 MB with a margin for the envelope. */
  batchBytes: 1_000_000,
  keyLength: 250,
  paramValue: 6000,
  tagValue: 8000,
  experimentName: 500,
  datasetName: 500,
  datasetDigest: 36,
  datasetSource: 65_536,
  inputTagValue: 500,
} as const;

/** Characters MLflow accepts in keys on every platform (the colon is refused on Windows servers). */
const SAFE_KEY = /^[A-Za-z0-9_.\- /]+$/;

/** Whether `key` passes MLflow's key rules: character set, length and path normalisation. */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.length > LIMITS.keyLength || !SAFE_KEY.test(key)) return false;
  if (key.startsWith('/') || key.endsWith('/') || key.includes('//')) return false;
  return !key.split('/').some((part) => part === '.' || part === '..');
}

/**
 * Maps any key onto one MLflow accepts: unsafe characters become `_`, path oddities are collapsed,
 * and an over-long key keeps its tail (which usually holds the distinguishing leaf name).
 */
export function sanitizeKey(key: string): string {
  let k = key.replace(/[^A-Za-z0-9_.\- /]/g, '_').replace(/\/{2,}/g, '/').replace(/^\/+|\/+$/g, '');
  k = k
    .split('/')
    .map((part) => (part === '.' || part === '..' ? part.replace(/\./g, '_') : part))
    .join('/');
  if (k.length === 0) k = '_';
  if (k.length > LIMITS.keyLength) k = k.slice(k.length - LIMITS.keyLength).replace(/^\/+/, '');
  return k;
}
