/**
 * System tags every run carries whatever its trackers: where the code came from (git commit,
 * branch, dirty flag, remote), who started it, how and on what. A tracker with its own names for
 * these (MLflow's `mlflow.source.git.commit` …) maps them when it ships.
 */
import { maskUrlCredentials } from './secrets.js';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim();
  } catch {
    return undefined;
  }
}

let cached: Record<string, string> | undefined;

/**
 * Tags describing this process (git is asked once per process, the answer cached). The command
 * line goes through `redactArgs` (the experiment's: secret values as their `${env:…}` references,
 * see src/config/redact.ts) and loses any URL's `user:password@`.
 */
export function systemTags(cwd = process.cwd(), redactArgs: (argv: readonly string[]) => string[] = (a) => [...a]): Record<string, string> {
  const argv = redactArgs(process.argv.slice(1)).map(maskUrlCredentials);
  const command = argv.slice(1).join(' ');
  return {
    'ablate.source.name': argv.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ').slice(0, 500) || 'node',
    ...(command ? { 'ablate.command': command.slice(0, 2000) } : {}),
    ...processTags(cwd),
  };
}

function processTags(cwd: string): Record<string, string> {
  if (cached) return { ...cached };
  const tags: Record<string, string> = {
    'ablate.user': safeUser(),
    'ablate.host': os.hostname(),
    'ablate.node_version': process.version,
    'ablate.platform': `${process.platform}-${process.arch}`,
  };
  const commit = git(['rev-parse', 'HEAD'], cwd);
  if (commit) {
    tags['ablate.git.commit'] = commit;
    const branch = git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd);
    if (branch) tags['ablate.git.branch'] = branch;
    const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
    tags['ablate.git.dirty'] = status === undefined ? 'unknown' : String(status.length > 0);
    const remote = git(['config', '--get', 'remote.origin.url'], cwd);
    // A remote may embed a token (https://bot:TOKEN@host/…): masked here, at the source.
    if (remote) tags['ablate.git.repo_url'] = maskUrlCredentials(remote);
  }
  cached = tags;
  return { ...tags };
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
