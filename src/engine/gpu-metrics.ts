/**
 * GPU utilisation while a run trains on the `tensorflow-gpu` backend, read from `nvidia-smi` (the
 * driver's own tool; nothing to install) under the keys the common tracking server's own GPU
 * monitor uses (as SystemSampler does for CPU and memory), so its system-metrics tab charts them beside CPU
 * and memory: `system/gpu_<i>_utilization_percentage`, `…_memory_usage_megabytes`,
 * `…_memory_usage_percentage`, `…_power_usage_watts`, `…_power_usage_percentage`.
 *
 * The query runs in the background (it takes tens of milliseconds, longer on a busy driver), so a
 * sample returns the previous query's answer and training never waits on it. Where nvidia-smi is
 * missing or fails, GPU metrics are simply absent. Not exercised on a GPU here (the development
 * machines have none); the parsing is tested on nvidia-smi's documented CSV output.
 */
import { execFile } from 'node:child_process';

/** The fields asked of nvidia-smi, in the order of its CSV columns. */
export const NVIDIA_SMI_QUERY = 'index,utilization.gpu,memory.used,memory.total,power.draw,power.limit';

/** MiB (nvidia-smi's unit) in MB (the tracking server's unit, bytes / 1e6). */
const MIB_IN_MB = 1.048576;

/** `system/gpu_…` metrics from `nvidia-smi --query-gpu=<NVIDIA_SMI_QUERY> --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of csv.split('\n')) {
    const cols = line.split(',').map((c) => c.trim());
    if (cols.length < 6 || !/^\d+$/.test(cols[0]!)) continue;
    // "[N/A]" or "[Not Supported]" where a board does not report a value: that metric is left out.
    const [util, used, total, power, limit] = cols.slice(1, 6).map((c) => (/^-?\d+(\.\d+)?$/.test(c) ? Number(c) : undefined));
    const k = `system/gpu_${cols[0]}`;
    if (util !== undefined) out[`${k}_utilization_percentage`] = util;
    if (used !== undefined) out[`${k}_memory_usage_megabytes`] = used * MIB_IN_MB;
    if (used !== undefined && total) out[`${k}_memory_usage_percentage`] = (100 * used) / total;
    if (power !== undefined) out[`${k}_power_usage_watts`] = power;
    if (power !== undefined && limit) out[`${k}_power_usage_percentage`] = (100 * power) / limit;
  }
  return out;
}

export class GpuSampler {
  private latest: Record<string, number> = {};
  private running = false;
  private broken = false;

  constructor(private readonly command = 'nvidia-smi') {}

  /** The last answer (empty before the first one) and a new query in the background. */
  sample(): Record<string, number> {
    if (!this.running && !this.broken) {
      this.running = true;
      execFile(this.command, [`--query-gpu=${NVIDIA_SMI_QUERY}`, '--format=csv,noheader,nounits'], { timeout: 5000 }, (err, stdout) => {
        this.running = false;
        // Missing or failing once means missing for this run: no retry every 10 s.
        if (err) this.broken = true;
        else this.latest = parseNvidiaSmi(stdout);
      });
    }
    return this.latest;
  }
}
