/**
 * TLS like MLflow's client (issue 17): MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH
 * and MLFLOW_TRACKING_CLIENT_CERT_PATH, against the real MLflow server behind a TLS proxy whose
 * certificates this test makes with openssl (a CA, a server certificate for 127.0.0.1, a client
 * certificate); a second proxy requires the client certificate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { MlflowClient } from '../../plugins/trackers/mlflow/client.js';
import { AblateError } from '../../src/errors.js';
import { serverForTests } from './mlflow-server.js';

const { server, skip } = await serverForTests();
const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-tls-'));
const f = (name: string) => path.join(dir, name);
const proxies: tls.Server[] = [];
let open = '';
let mutual = '';

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A TLS server on 127.0.0.1 that forwards the decrypted bytes to the MLflow server. */
async function tlsProxy(requireClientCert: boolean): Promise<string> {
  const proxy = tls.createServer({ key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')), ca: readFileSync(f('ca.pem')), requestCert: requireClientCert, rejectUnauthorized: requireClientCert }, (socket) => {
    const upstream = net.connect(server!.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close);
    upstream.on('error', close);
  });
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxies.push(proxy);
  return `https://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
}

before(async () => {
  if (skip) return;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=ablate test CA');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']] as const) {
    writeFileSync(f(`${name}.ext`), ext);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? '127.0.0.1' : 'ablate client'}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  // One file with the client's certificate and key, as MLflow's client takes it.
  writeFileSync(f('client-bundle.pem'), Buffer.concat([readFileSync(f('client.pem')), readFileSync(f('client.key'))]));
  open = await tlsProxy(false);
  mutual = await tlsProxy(true);
});

after(async () => {
  for (const p of proxies) p.close();
  await server?.stop();
});

const VARS = ['MLFLOW_TRACKING_INSECURE_TLS', 'MLFLOW_TRACKING_SERVER_CERT_PATH', 'MLFLOW_TRACKING_CLIENT_CERT_PATH', 'NODE_EXTRA_CA_CERTS'] as const;

/** A client made with exactly these variables set (they are read when the client is made). */
function clientWith(uri: string, env: Partial<Record<(typeof VARS)[number], string>>): MlflowClient {
  const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
  try {
    for (const k of VARS) delete process.env[k];
    Object.assign(process.env, env);
    return new MlflowClient(uri, { maxRetries: 0, timeoutMs: 20_000 });
  } finally {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

test('a self-signed server certificate is refused by default, accepted with INSECURE_TLS or the CA in SERVER_CERT_PATH', { skip, timeout: 120_000 }, async () => {
  await assert.rejects(clientWith(open, {}).getOrCreateExperiment('tls-default'), /cannot reach https:\/\/127\.0\.0\.1:\d+ \(.*(certificate|self.signed)/i);
  const insecure = await clientWith(open, { MLFLOW_TRACKING_INSECURE_TLS: 'true' }).getOrCreateExperiment('tls-insecure');
  assert.match(insecure, /^\d+$/);
  const verified = clientWith(open, { MLFLOW_TRACKING_SERVER_CERT_PATH: f('ca.pem') });
  const id = await verified.getOrCreateExperiment('tls-verified');
  assert.equal(id, await clientWith(server!.uri, {}).getOrCreateExperiment('tls-verified'), 'the same server behind the proxy');
  assert.equal(await verified.health(), true);
  // A wrong CA bundle is refused.
  await assert.rejects(clientWith(open, { MLFLOW_TRACKING_SERVER_CERT_PATH: f('server.pem') }).getOrCreateExperiment('tls-wrong-ca'), /cannot reach/);
});

test('CLIENT_CERT_PATH presents a client certificate to a server that requires one', { skip, timeout: 120_000 }, async () => {
  await assert.rejects(clientWith(mutual, { MLFLOW_TRACKING_SERVER_CERT_PATH: f('ca.pem') }).getOrCreateExperiment('tls-mutual'), /cannot reach/);
  const c = clientWith(mutual, { MLFLOW_TRACKING_SERVER_CERT_PATH: f('ca.pem'), MLFLOW_TRACKING_CLIENT_CERT_PATH: f('client-bundle.pem') });
  const id = await c.getOrCreateExperiment('tls-mutual');
  const run = await c.createRun({ experimentId: id, runName: 'over-mtls' });
  await c.uploadArtifact(run.info.artifact_uri!, 'hello.txt', Buffer.from('over mutual TLS'));
  assert.equal((await c.downloadArtifact(run.info.artifact_uri!, 'hello.txt')).toString(), 'over mutual TLS');
});

test('INSECURE_TLS together with SERVER_CERT_PATH is an error, as in MLflow; an unreadable file is named', () => {
  assert.throws(() => clientWith('https://127.0.0.1:1', { MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: '/x.pem' }), (e: unknown) => e instanceof AblateError && e.code === 'tracking.tls' && /cannot both be set/.test(e.message));
  assert.throws(() => clientWith('https://127.0.0.1:1', { MLFLOW_TRACKING_CLIENT_CERT_PATH: path.join(dir, 'missing.pem') }), /MLFLOW_TRACKING_CLIENT_CERT_PATH=.*missing\.pem cannot be read/);
});

test('credentials in a tracking URI become an Authorization header and appear in no message', { skip, timeout: 120_000 }, async () => {
  const withCreds = server!.uri.replace('http://', 'http://bot:s3cret-Pw@');
  const c = new MlflowClient(withCreds, { maxRetries: 0 });
  assert.equal(c.trackingUri, server!.uri);
  assert.match(await c.getOrCreateExperiment('uri-credentials'), /^\d+$/);
  const down = new MlflowClient('http://bot:s3cret-Pw@127.0.0.1:9', { maxRetries: 0 });
  await assert.rejects(down.getOrCreateExperiment('x'), (e: Error) => {
    assert.match(e.message, /cannot reach http:\/\/127\.0\.0\.1:9/);
    assert.ok(!e.message.includes('s3cret'), e.message);
    return true;
  });
});

test('a non-http tracking URI with credentials is refused without showing them', async () => {
  const { resolveTrackingUri } = await import('../../plugins/trackers/mlflow/sink.js');
  assert.throws(() => resolveTrackingUri('postgresql://mlflow:db-Pa55word@db.example/mlflow'), (e: Error) => {
    assert.match(e.message, /tracking URI 'postgresql:\/\/\*\*\*@db\.example\/mlflow' is not an http\(s\) server/);
    return true;
  });
  assert.throws(() => new MlflowClient('ftp://u:ftp-Pa55@h/x'), (e: Error) => !e.message.includes('ftp-Pa55'));
});
