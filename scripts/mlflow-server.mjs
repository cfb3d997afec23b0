#!/usr/bin/env node
/**
 * Starts a real MLflow tracking server for tests and local use: `mlflow server` from the project's
 * `.venv-mlflow/` (made by scripts/mlflow-venv.sh) on 127.0.0.1, with a SQLite store and a proxied
 * artifacts folder inside a temporary directory, and waits until /health answers.
 *
 *   node scripts/mlflow-server.mjs [--port N] [--dir DIR]     # prints the URI, runs until Ctrl-C
 *
 * As a module: `const s = await startMlflowServer({ port, dir }); ... await s.stop();`
 * Passing the same `port` and `dir` again restarts the server on the same store.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Path of the mlflow executable of the project venv, or undefined when the venv is missing. */
export function mlflowExecutable() {
  const venv = process.env.ABLATE_MLFLOW_VENV ?? path.join(ROOT, '.venv-mlflow');
  const exe = path.join(venv, 'bin', 'mlflow');
  return existsSync(exe) ? exe : undefined;
}

/** A free TCP port on 127.0.0.1 (asks the OS for an ephemeral one). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(uri, child, logFile, timeoutMs) {
  // The child is unref'd and fetch's abort timer is too: hold the event loop open while waiting,
  // or a script whose only work is this await would exit (code 13) before the server is up.
  const hold = setInterval(() => {}, 1000);
  try {
    await pollHealth(uri, child, logFile, timeoutMs);
  } finally {
    clearInterval(hold);
  }
}

async function pollHealth(uri, child, logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`mlflow server exited with code ${child.exitCode} before becoming healthy; log:\n${tail(logFile)}`);
    }
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 2000);
    try {
      const res = await fetch(`${uri}/health`, { signal: ac.signal });
      if (res.ok) return;
    } catch {
      /* not up yet */
    } finally {
      clearTimeout(t);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`mlflow server at ${uri} not healthy after ${timeoutMs} ms; log:\n${tail(logFile)}`);
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts the server. Options: `port` (default: a free one), `dir` (default: a new temp dir holding
 * mlflow.db, mlartifacts/ and server.log), `timeoutMs` for /health (default 180 s, or
 * ABLATE_MLFLOW_START_TIMEOUT_MS: the first start runs the database migrations, and Python's
 * imports alone took over 60 s on a 2-core machine under full load).
 */
export async function startMlflowServer(opts = {}) {
  const exe = mlflowExecutable();
  if (!exe) throw new Error('no .venv-mlflow/bin/mlflow: run `bash scripts/mlflow-venv.sh` first');
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'ablate-mlflow-'));
  const port = opts.port ?? (await freePort());
  const uri = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'server.log');
  const log = openSync(logFile, 'a');
  const started = Date.now();
  const args = [
    'server',
    '--backend-store-uri', `sqlite:///${path.join(dir, 'mlflow.db')}`,
    '--artifacts-destination', path.join(dir, 'mlartifacts'),
    '--host', '127.0.0.1',
    '--port', String(port),
    '--workers', String(opts.workers ?? 1),
  ];
  // detached: the server gets its own process group, so stop() ends it and its workers together.
  const child = spawn(exe, args, {
    cwd: dir,
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  child.unref();
  try {
    await waitHealthy(uri, child, logFile, opts.timeoutMs ?? Number(process.env.ABLATE_MLFLOW_START_TIMEOUT_MS ?? 180_000));
  } catch (e) {
    killGroup(child);
    throw e;
  }
  let stopped = false;
  return {
    uri,
    port,
    dir,
    pid: child.pid,
    startupMs: Date.now() - started,
    logFile,
    /** Stops the server and waits for its process to exit. */
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      // Hold the loop open until the exit is seen: the child was unref'd so a running server never
      // keeps its user alive, but here a SIGKILL fired from the timer would otherwise leave nothing
      // ref'd while its exit notice is on its way, and a script awaiting stop() would exit 13.
      child.ref();
      killGroup(child, 'SIGTERM');
      // uvicorn's graceful shutdown waits for open keep-alive connections; do not wait long.
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
      // The port can linger for a moment in the workers; wait until nothing answers. The probe's
      // timeout must be a ref'd timer: with AbortSignal.timeout a probe that hangs on a dying
      // worker leaves nothing to keep the event loop alive, and a script awaiting stop() exits 13.
      for (let i = 0; i < 40; i++) {
        const ac = new AbortController();
        const t2 = setTimeout(() => ac.abort(), 500);
        try {
          await fetch(`${uri}/health`, { signal: ac.signal });
          await new Promise((r) => setTimeout(r, 250));
        } catch {
          return;
        } finally {
          clearTimeout(t2);
        }
      }
    },
  };
}

function killGroup(child, signal = 'SIGTERM') {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

// CLI use
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const server = await startMlflowServer({
    port: arg('--port') ? Number(arg('--port')) : undefined,
    dir: arg('--dir'),
  });
  console.log(`MLflow server ready at ${server.uri} (store ${server.dir}, ${server.startupMs} ms)`);
  console.log(`export MLFLOW_TRACKING_URI=${server.uri}`);
  const bye = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', bye);
  process.on('SIGTERM', bye);
  setInterval(() => {}, 1 << 30);
}
