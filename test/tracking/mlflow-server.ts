/**
 * Starts the real MLflow server for integration tests. Rules: with CI=true a server that cannot
 * start is a failure; elsewhere, a missing venv skips the tests with a loud message (never a
 * silent skip).
 */
// @ts-expect-error -- a plain .mjs script shared with the command line; its API is typed below
import * as script from '../../scripts/mlflow-server.mjs';

export interface TestServer {
  uri: string;
  port: number;
  dir: string;
  startupMs: number;
  stop(): Promise<void>;
}

const api = script as {
  startMlflowServer(opts?: { port?: number; dir?: string; timeoutMs?: number }): Promise<TestServer>;
  mlflowExecutable(): string | undefined;
};

export const startMlflowServer = api.startMlflowServer;

/** The server, or a skip reason when tests may skip (never in CI). */
export async function serverForTests(): Promise<{ server?: TestServer; skip?: string }> {
  const ci = process.env.CI === 'true';
  if (!api.mlflowExecutable()) {
    const msg = 'MLflow venv missing (.venv-mlflow/): run `bash scripts/mlflow-venv.sh`';
    if (ci) throw new Error(`CI=true and ${msg}`);
    process.stderr.write(`\n!!! SKIPPING MLflow integration tests: ${msg} !!!\n\n`);
    return { skip: msg };
  }
  try {
    return { server: await api.startMlflowServer() };
  } catch (e) {
    if (ci) throw e;
    const msg = `MLflow server did not start: ${e instanceof Error ? e.message : String(e)}`;
    process.stderr.write(`\n!!! SKIPPING MLflow integration tests: ${msg} !!!\n\n`);
    return { skip: msg };
  }
}
