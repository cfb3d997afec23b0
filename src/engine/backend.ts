/**
 * One backend per process: the first run chooses it from its `runtime:` block, later runs in the
 * same process (in-process sweep cells, eval after train) reuse it, since tfjs-node cannot be
 * unloaded and re-initialising would orphan every live variable.
 */
import { selectBackend, type BackendSelection, type RuntimeOptions } from '../runtime/backend.js';
import { stepCompilation, type RuntimeInfo } from '../runtime/step.js';

let chosen: { request: string; selection: Promise<BackendSelection> } | undefined;

export function runtimeOptionsOf(config: Record<string, unknown>): RuntimeOptions {
  const rt = (config.runtime ?? {}) as Record<string, unknown>;
  const opts: RuntimeOptions = {};
  if (typeof rt.backend === 'string') opts.backend = rt.backend as RuntimeOptions['backend'];
  if (typeof rt.threads === 'object' && rt.threads !== null) opts.threads = rt.threads as RuntimeOptions['threads'];
  if (typeof rt.deterministic === 'boolean') opts.deterministic = rt.deterministic;
  return opts;
}

export async function ensureBackend(config: Record<string, unknown>, log?: (line: string) => void): Promise<BackendSelection> {
  const opts = runtimeOptionsOf(config);
  const request = JSON.stringify(opts);
  if (chosen) {
    if (chosen.request !== request) log?.(`ablate runtime: keeping the backend chosen earlier in this process (asked now: ${request})`);
  } else {
    const selection = selectBackend({ ...opts, ...(log ? { log } : {}) });
    chosen = { request, selection };
    selection.catch(() => {
      chosen = undefined;
    });
  }
  return chosen.selection;
}

/**
 * What the run's components learn about the runtime (BuildContext.runtime): the backend, and
 * whether steps compile. Not a property of the backend: every run decides it from its own
 * `runtime.compile` (docs/engine.md, compiled steps).
 */
export function runtimeInfo(config: Record<string, unknown>, selection: BackendSelection): RuntimeInfo {
  const compile = ((config.runtime ?? {}) as Record<string, unknown>).compile;
  return { backend: selection.name, compile: stepCompilation(compile, selection.name) };
}
