/**
 * The one-node Slurm cluster of scripts/slurm-cluster.sh, for the Slurm launcher's tests. Rules
 * (as for the MLflow server): with CI=true a cluster that is not up is a failure (.ci/run starts
 * it); elsewhere the tests skip with a loud message (start it with
 * `bash scripts/slurm-cluster.sh start`).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Sets SLURM_CONF for this process (and the jobs it submits), or returns why the tests skip. */
export function clusterForTests(): { skip?: string } {
  const r = spawnSync('bash', [path.join(root, 'scripts', 'slurm-cluster.sh'), 'status'], { encoding: 'utf8' });
  const conf = /^SLURM_CONF=(.+)$/m.exec(r.stdout ?? '')?.[1];
  if (r.status === 0 && conf) {
    process.env.SLURM_CONF = conf;
    return {};
  }
  const msg = `no Slurm cluster is up (${(r.stderr ?? '').trim() || `exit ${r.status}`}): run \`bash scripts/slurm-cluster.sh start\``;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${msg}`);
  process.stderr.write(`\n!!! SKIPPING Slurm launcher tests: ${msg} !!!\n\n`);
  return { skip: msg };
}
