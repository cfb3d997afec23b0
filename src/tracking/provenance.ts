/**
 * System tags every run carries whatever the tracker: where the code came from (git commit,
 * branch, dirty flag), how it was started and on what. The Python MLflow client adds the git
 * ones itself; a REST client has to (shared/reference/mlflow.md §1, system tags).
 */
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

/** Tags describing this process: cached, since git is asked only once per process. */
export function systemTags(cwd = process.cwd()): Record<string, string> {
  if (cached) return { ...cached };
  const tags: Record<string, string> = {
    'mlflow.source.type': 'LOCAL',
    'mlflow.source.name': process.argv.slice(1).map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ').slice(0, 500) || 'node',
    'mlflow.user': safeUser(),
    'ablate.host': os.hostname(),
    'ablate.node_version': process.version,
    'ablate.platform': `${process.platform}-${process.arch}`,
  };
  const command = process.argv.slice(2).join(' ');
  if (command) tags['ablate.command'] = command.slice(0, 2000);
  const commit = git(['rev-parse', 'HEAD'], cwd);
  if (commit) {
    tags['mlflow.source.git.commit'] = commit;
    const branch = git(['rev-parse', '--abbrev-ref', 'HEAD'], cwd);
    if (branch) tags['mlflow.source.git.branch'] = branch;
    const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
    tags['mlflow.source.git.dirty'] = status === undefined ? 'unknown' : String(status.length > 0);
    const remote = git(['config', '--get', 'remote.origin.url'], cwd);
    if (remote) tags['mlflow.source.git.repoURL'] = remote;
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
