/**
 * Iterations per second of each trainer (supervised, adversarial, adversarial-semi) on the mini-VOC
 * model of `experiments/quickstart.yaml`, next to the PyTorch reference on the same shapes, in the
 * same run (bench/trainers_torch.py through tools/.venv). The ablate side runs the real plugins
 * through the container and reads real mini-VOC batches through the prefetching loader, so its
 * number is what `ablate run` gets per iteration (the engine adds logging only).
 * Not a test: numbers depend on the machine and on its load (reported with the results).
 *
 * Usage: node --import tsx bench/trainers.ts [--steps 20] [--warmup 3] [--no-torch] [--write]
 *   --write appends/replaces the "## Trainers" section of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExperiment } from '../src/config/index.js';
import { ExperimentContainer } from '../src/plugin/container.js';
import { ensureBackend, runtimeInfo } from '../src/engine/backend.js';
import { tf, type RuntimeInfo } from '../src/index.js';
import { SeededRng } from '../src/data/rng.js';
import { writeResultsSection } from './results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
};
const flag = (name: string) => process.argv.includes(`--${name}`);
const steps = Number(arg('steps', '20'));
const warmup = Number(arg('warmup', '3'));
const experiment = path.join(root, arg('experiment', 'experiments/quickstart.yaml'));
const quiet = { info() {}, warn: (m: string) => console.error(`warning: ${m}`), debug() {} };

const TRAINERS: Record<string, string[]> = {
  supervised: ['trainer.type=supervised'],
  adversarial: ['trainer.type=adversarial'],
  'adversarial-semi': [],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  trainer: string;
  ms: number;
  torchMs?: number;
}

async function timeTrainer(name: string, sets: string[], runtime: RuntimeInfo): Promise<{ ms: number; shapes: Record<string, unknown> }> {
  // The type change resets the trainer's options to that plugin's defaults: restore the batch.
  const base = await loadExperiment(experiment);
  const batch = (base.config.trainer as { batch_size: number }).batch_size;
  const resolved = await loadExperiment(experiment, { set: [...sets, `trainer.batch_size=${batch}`, 'trainer.iterations=100000'] });
  const c = new ExperimentContainer({ registry: resolved.registry, config: resolved.config, baseDir: resolved.baseDir, log: quiet, runtime });
  const trainer = await c.get('trainer', 'trainer');
  const times: number[] = [];
  const stepContext = { rng: new SeededRng(0) };
  for (let it = 0; it < warmup + steps; it++) {
    const t0 = performance.now();
    await trainer.step(it, stepContext);
    if (it >= warmup) times.push(performance.now() - t0);
  }
  await trainer.close?.();
  const model = resolved.config.model as Record<string, unknown>;
  const disc = resolved.config.discriminator as Record<string, unknown> | undefined;
  const data = resolved.config.dataset as Record<string, unknown>;
  for (const slot of ['optimizer', 'discriminator_optimizer']) if (c.has(slot)) (await c.get(slot, 'optimizer')).dispose();
  (await c.get('model', 'model')).dispose();
  if (c.has('discriminator')) (await c.get('discriminator', 'discriminator')).dispose();
  return {
    ms: median(times),
    shapes: { depth: model.depth, width: model.base_width, rates: model.rates, crop: data.crop, batch, ndf: disc?.ndf },
  };
}

function torchReference(shapes: Record<string, unknown>): { trainers: Record<string, { step_ms: number[] }>; torch: string; threads: number } | string {
  const py = path.join(root, 'tools', '.venv', 'bin', 'python');
  if (!existsSync(py)) return 'tools/.venv is missing (bash tools/setup-venv.sh)';
  const r = spawnSync(
    py,
    [
      path.join(root, 'bench', 'trainers_torch.py'),
      '--depth', String(shapes.depth), '--width', String(shapes.width), '--crop', String(shapes.crop),
      '--batch', String(shapes.batch), '--ndf', String(shapes.ndf), '--rates', (shapes.rates as number[]).join(','),
      '--steps', String(steps), '--warmup', String(warmup), '--threads', '2',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return `PyTorch reference failed: ${r.stderr.trim().split('\n').slice(-2).join(' / ')}`;
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

async function main() {
  const base = await loadExperiment(experiment);
  const backend = await ensureBackend(base.config, () => {});
  const rows: Row[] = [];
  let shapes: Record<string, unknown> = {};
  for (const [name, sets] of Object.entries(TRAINERS)) {
    const r = await timeTrainer(name, sets, runtimeInfo(base.config, backend));
    shapes = r.shapes;
    rows.push({ trainer: name, ms: r.ms });
    console.error(`${name}: ${r.ms.toFixed(1)} ms/it (${(1000 / r.ms).toFixed(2)} it/s), live tensors ${tf.memory().numTensors}`);
  }
  let torchNote = 'not run (--no-torch)';
  let torchVersion = '';
  if (!flag('no-torch')) {
    const t = torchReference(shapes);
    if (typeof t === 'string') torchNote = t;
    else {
      torchVersion = `torch ${t.torch}, ${t.threads} threads`;
      torchNote = torchVersion;
      for (const row of rows) {
        const ref = t.trainers[row.trainer];
        if (ref) row.torchMs = median(ref.step_ms);
      }
    }
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os.loadavg().map((l) => l.toFixed(1)).join(', ');
  const lines = [
    '## Trainers',
    '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu} (${os.cpus().length} cores, load average ${load}), `
      + `backend ${backend.name}${backend.tfVersion ? ` (TensorFlow ${backend.tfVersion})` : ''}, PyTorch: ${torchNote}.`,
    `Model and data of \`${path.relative(root, experiment)}\`: DeepLab-v2 ResNet-${shapes.depth} width ${shapes.width}, rates [${(shapes.rates as number[]).join(', ')}], `
      + `fcdisc ndf ${shapes.ndf}, ${shapes.crop}×${shapes.crop} crops, batch ${shapes.batch}. Median of ${steps} iterations after ${warmup} warm-up.`,
    'ablate reads real mini-VOC batches through its loader; the PyTorch reference uses random tensors of the same shapes.',
    `Command: \`node --import tsx bench/trainers.ts --write\``,
    '',
    '| trainer | ablate ms/it | ablate it/s | PyTorch ms/it | PyTorch it/s | time ratio ablate/PyTorch |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.trainer} | ${r.ms.toFixed(1)} | ${(1000 / r.ms).toFixed(2)} | ${r.torchMs ? r.torchMs.toFixed(1) : '-'} | ${r.torchMs ? (1000 / r.torchMs).toFixed(2) : '-'} | ${r.torchMs ? (r.ms / r.torchMs).toFixed(2) : '-'} |`),
    '',
  ];
  const section = lines.join('\n');
  console.log(section);
  if (flag('write')) writeResultsSection('## Trainers', section);
}

await main();
