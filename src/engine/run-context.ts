/**
 * Context a run carries besides its config and metrics: the experiment file's own description
 * (its header comment), the size of its networks and the machine's load while it trains (CPU and memory, sampled now and
 * then under the `system/` keys that tracking UIs show as system metrics, docs/tracking.md).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import type { Logger } from '../logger.js';
import os from 'node:os';
import type { Network } from '../plugin/contracts.js';

/**
 * The header comment of an experiment file (the lines starting with `#` before its first key,
 * without the editor's schema modeline) plus what it extends: the file's own words on what it is.
 */
export function experimentDescription(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/);
  const header: string[] = [];
  for (const line of lines) {
    if (!line.startsWith('#')) break;
    if (/^#\s*yaml-language-server:/.test(line)) continue;
    header.push(line.replace(/^#\s?/, ''));
  }
  const ext = lines.find((l) => /^extends:/.test(l));
  const parts = [header.join('\n').trim(), ext ? `\`${ext.trim()}\`` : ''].filter((p) => p !== '');
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

/** Seconds between samples of the machine's load. */
export const SYSTEM_SAMPLE_SECONDS = 10;

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

/**
 * CPU and memory since the last sample, under the keys the common tracking server's own system-metrics monitor uses
 * (`system/cpu_utilization_percentage`, `system/system_memory_usage_megabytes`,
 * `system/system_memory_usage_percentage`) plus this process's share (`system/process_…`).
 */
export class SystemSampler {
  private last = cpuTimes();
  private lastProcess = process.cpuUsage();
  private lastAt = performance.now();

  sample(): Record<string, number> {
    const now = cpuTimes();
    const busy = now.total - this.last.total - (now.idle - this.last.idle);
    const span = now.total - this.last.total;
    const proc = process.cpuUsage(this.lastProcess);
    const wallMs = performance.now() - this.lastAt;
    this.last = now;
    this.lastProcess = process.cpuUsage();
    this.lastAt = performance.now();
    const mb = 1024 * 1024;
    const used = os.totalmem() - os.freemem();
    return {
      'system/cpu_utilization_percentage': span > 0 ? (100 * busy) / span : 0,
      // Of the whole machine (100 % = every core busy), like the system figure.
      'system/process_cpu_utilization_percentage': wallMs > 0 ? (100 * (proc.user + proc.system)) / 1000 / wallMs / Math.max(1, os.cpus().length) : 0,
      'system/system_memory_usage_megabytes': used / mb,
      'system/system_memory_usage_percentage': (100 * used) / os.totalmem(),
      'system/process_memory_usage_megabytes': process.memoryUsage().rss / mb,
    };
  }
}

export interface NetworkSummary {
  name: string;
  /** Elements of the variables in its parameter groups (what the optimizer updates). */
  trainable: number;
  /** Elements of every tensor of its state dict (frozen weights and running statistics included). */
  total: number;
  /** Trainable elements per parameter group. */
  groups: Record<string, number>;
}

/** Parameters per network: trainable (per parameter group) and in all. */
export function summarizeNetworks(networks: ReadonlyMap<string, Network>): NetworkSummary[] {
  return [...networks].map(([name, n]) => {
    const groups: Record<string, number> = {};
    for (const g of n.parameterGroups()) groups[g.name] = (groups[g.name] ?? 0) + g.variables.reduce((a, v) => a + v.size, 0);
    let total = 0;
    for (const v of n.stateDict().values()) total += v.size;
    return { name, trainable: Object.values(groups).reduce((a, b) => a + b, 0), total, groups };
  });
}

/** The summary as Markdown (`model_summary.md`, a run artifact). */
export function networkSummaryMarkdown(summary: readonly NetworkSummary[]): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    '| network | trainable | all tensors | trainable per parameter group |',
    '|---|---:|---:|---|',
    ...summary.map((s) => `| ${s.name} | ${n(s.trainable)} | ${n(s.total)} | ${Object.entries(s.groups).map(([g, c]) => `${g} ${n(c)}`).join(', ')} |`),
    '',
  ].join('\n');
}

/** The run's log in its folder (appended to on resume). */
export const RUN_LOG = 'run.log';

/** `log`, with every info and warning line also appended to `file` (debug lines only when shown). */
export function withLogFile(log: Logger, file: string): Logger {
  const keep = (line: string) => {
    try {
      appendFileSync(file, `${line}\n`);
    } catch {
      /* a log file that cannot be written must not stop the run; the terminal still has the line */
    }
  };
  return {
    info: (m) => {
      log.info(m);
      keep(m);
    },
    warn: (m) => {
      log.warn(m);
      keep(`warning: ${m}`);
    },
    debug: (m) => {
      log.debug(m);
      if (process.env.ABLATE_DEBUG) keep(m);
    },
  };
}
