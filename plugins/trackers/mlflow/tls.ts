/**
 * TLS settings from MLflow's own environment variables, read like MLflow's Python client does
 * (mlflow/utils/rest_utils.py): MLFLOW_TRACKING_INSECURE_TLS=true skips certificate checks,
 * MLFLOW_TRACKING_SERVER_CERT_PATH names the CA bundle the server's certificate must chain to,
 * MLFLOW_TRACKING_CLIENT_CERT_PATH names a PEM file holding the client certificate and its key
 * (what `requests` takes as `cert=`); the first two together are an error, as in MLflow.
 *
 * Node's global fetch takes no TLS options without the undici package, so with any of these set
 * the client sends its requests through node:https with them (`tlsFetch`); without them it uses
 * fetch as before (NODE_EXTRA_CA_CERTS keeps working either way).
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { AblateError } from '../../../src/index.js';

export interface TlsSettings {
  rejectUnauthorized: boolean;
  ca?: Buffer;
  /** Client certificate and key (one PEM file may hold both). */
  cert?: Buffer;
  key?: Buffer;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && ['true', '1', 'yes'].includes(v.trim().toLowerCase());
}

function readPem(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new AblateError('tracking.tls', `${variable}=${file} cannot be read: ${(e as Error).message}`, { where: { file }, hint: `point ${variable} at a PEM file` });
  }
}

/** The TLS settings the environment asks for, or undefined when it asks for none. */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsSettings | undefined {
  const insecure = truthy(env.MLFLOW_TRACKING_INSECURE_TLS);
  const caPath = env.MLFLOW_TRACKING_SERVER_CERT_PATH || undefined;
  const clientPath = env.MLFLOW_TRACKING_CLIENT_CERT_PATH || undefined;
  if (insecure && caPath) {
    throw new AblateError('tracking.tls', 'MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH cannot both be set', {
      hint: 'skip verification (INSECURE_TLS) or verify against a CA bundle (SERVER_CERT_PATH), not both',
    });
  }
  if (!insecure && !caPath && !clientPath) return undefined;
  const client = clientPath ? readPem('MLFLOW_TRACKING_CLIENT_CERT_PATH', clientPath) : undefined;
  return {
    rejectUnauthorized: !insecure,
    ...(caPath ? { ca: readPem('MLFLOW_TRACKING_SERVER_CERT_PATH', caPath) } : {}),
    ...(client ? { cert: client, key: client } : {}),
  };
}

/** A fetch for https URLs with these TLS settings (bodies are buffered, as the client needs). */
export function tlsFetch(tls: TlsSettings): typeof fetch {
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) });
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'https:') return fetch(input, init);
    const body = init.body === undefined || init.body === null ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : Buffer.from(init.body as Uint8Array);
    const headers = { ...(init.headers as Record<string, string> | undefined), ...(body ? { 'Content-Length': String(body.length) } : {}) };
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(url, { method: init.method ?? 'GET', headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 500;
          // A Response may not carry a body for these statuses.
          const empty = status === 204 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h }));
        });
      });
      // Like fetch: a TLS failure is a TypeError whose cause says why.
      req.on('error', (e) => reject(Object.assign(new TypeError('fetch failed'), { cause: e })));
      req.end(body);
    });
  }) as typeof fetch;
}
