/**
 * Data-loader throughput: images/s decoded + augmented by the prefetching loader, for mini-VOC
 * (64×64, the quickstart pipeline) and for VOC-sized images (500×375 JPEGs, crop 321 with random
 * scale and mirror), next to what a training iteration consumes (adversarial-semi draws three
 * batches per iteration: labeled, unlabeled and ground truth).
 * Not a test: numbers depend on the machine and its load (reported with the results).
 *
 * Usage: node --import tsx bench/data.ts [--batches 30] [--iteration-ms MS] [--write]
 *   --iteration-ms: a measured quickstart iteration time to compare with (default: the
 *   adversarial-semi row of the "## Trainers" section, when present).
 *   --write replaces the "## Data" section of bench/RESULTS.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIndexedPng, encodeJpeg, SeededRng, type SegmentationDataset } from '../src/index.js';
import { PluginRegistry } from '../src/plugin/registry.js';
import { ExperimentContainer } from '../src/plugin/container.js';
import { vocDataset, miniVocDataset } from '../plugins/datasets/index.js';
import { buildMiniVoc, MINI_VOC_BUILD_DEFAULTS } from '../plugins/datasets/mini-voc/build.js';
import { RESULTS_FILE, writeResultsSection } from './results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
};
const batches = Number(arg('batches', '30'));
const out = path.join(root, 'bench', '.out');
const quiet = { info() {}, warn: (m: string) => console.error(`warning: ${m}`), debug() {} };

async function dataset(config: Record<string, unknown>): Promise<SegmentationDataset> {
  const registry = new PluginRegistry();
  registry.registerAll([vocDataset, miniVocDataset], 'builtin');
  const c = new ExperimentContainer({ registry, config: { seed: 0, dataset: config }, baseDir: root, log: quiet });
  return c.get('dataset', 'dataset');
}

/** Images/s of one stream pulled as fast as possible (after one warm-up batch). */
/** Images/s (wall) and CPU ms per image (all threads; robust to a loaded machine) of one stream. */
async function throughput(ds: SegmentationDataset, role: 'labeled' | 'unlabeled', batchSize: number, n: number): Promise<{ ips: number; cpuMs: number }> {
  const s = ds.stream(role, { subset: role, batchSize, seed: 1 });
  await s.next();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let images = 0;
  for (let i = 0; i < n; i++) images += (await s.next()).shape[0];
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  s.close();
  return { ips: images / secs, cpuMs: (cpu.user + cpu.system) / 1000 / images };
}

/** A VOC-like folder of 500×375 JPEGs with smooth content and block labels. */
async function vocLike(dir: string, count: number): Promise<void> {
  if (existsSync(path.join(dir, 'ImageSets/Segmentation/train_aug.txt'))) return;
  for (const d of ['JPEGImages', 'SegmentationClassAug', 'ImageSets/Segmentation']) mkdirSync(path.join(dir, d), { recursive: true });
  const W = 500;
  const H = 375;
  const ids: string[] = [];
  for (let k = 0; k < count; k++) {
    const rng = new SeededRng(k);
    const rgb = new Uint8Array(W * H * 3);
    const label = new Uint8Array(W * H);
    const cx = rng.uniform(100, 400);
    const cy = rng.uniform(80, 300);
    const cls = rng.int(1, 21);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = y * W + x;
        const inside = Math.hypot(x - cx, y - cy) < 90;
        label[i] = inside ? cls : 0;
        rgb[i * 3] = (x + k * 7) & 255;
        rgb[i * 3 + 1] = (y * 2) & 255;
        rgb[i * 3 + 2] = inside ? 200 : Math.floor(rng.next() * 255);
      }
    }
    const id = `2007_${String(k).padStart(6, '0')}`;
    ids.push(id);
    writeFileSync(path.join(dir, 'JPEGImages', `${id}.jpg`), await encodeJpeg(W, H, rgb, 90));
    writeFileSync(path.join(dir, 'SegmentationClassAug', `${id}.png`), encodeIndexedPng(W, H, label));
  }
  writeFileSync(path.join(dir, 'ImageSets/Segmentation/train_aug.txt'), `${ids.join('\n')}\n`);
  writeFileSync(path.join(dir, 'ImageSets/Segmentation/val.txt'), `${ids.slice(0, 5).join('\n')}\n`);
}

/** The "## Trainers" section's adversarial-semi ms/iteration, when another bench wrote it. */
function trainerMs(): number | undefined {
  if (!existsSync(RESULTS_FILE)) return undefined;
  const m = /adversarial-semi[^\n]*?([\d.]+)\s*ms/.exec(readFileSync(RESULTS_FILE, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

const miniRoot = path.join(out, 'mini-voc');
// Built afresh each time: the build time (default options) is one of the reported numbers.
const buildCpu0 = process.cpuUsage();
const buildSeconds: number | undefined = (await buildMiniVoc({ ...MINI_VOC_BUILD_DEFAULTS, out: miniRoot, overwrite: true }, quiet)).seconds;
const buildCpu = process.cpuUsage(buildCpu0);
const vocRoot = path.join(out, 'voc-like');
await vocLike(vocRoot, 60);

const quick = { type: 'mini-voc', root: miniRoot, build_if_missing: false, labeled_fraction: 0.125, crop: 64, mirror: true };
const rows: { name: string; ips: number; cpuMs: number }[] = [];
const B = 8;
rows.push({ name: `mini-VOC 64², labeled, batch ${B}, decode every time (cache off)`, ...(await throughput(await dataset({ ...quick, cache: false }), 'labeled', B, batches)) });
const cached = await dataset({ ...quick, cache: true });
await throughput(cached, 'unlabeled', B, Math.ceil(1750 / B)); // one epoch fills the cache
rows.push({ name: `mini-VOC 64², unlabeled, batch ${B}, decoded images cached (augment + collate only)`, ...(await throughput(cached, 'unlabeled', B, batches * 4)) });
const vocCfg = { type: 'voc', root: vocRoot, crop: 321, scale: { min: 0.5, max: 1.6, steps: 12 }, mirror: true };
rows.push({ name: 'VOC-size 500×375 JPEG, crop 321, scale 0.5–1.6, mirror, batch 10', ...(await throughput(await dataset(vocCfg), 'labeled', 10, Math.max(6, Math.floor(batches / 3)))) });

const ms = process.argv.includes('--iteration-ms') ? Number(arg('iteration-ms', '0')) : trainerMs();
const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '## Data',
  '',
  `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (shared machine). Date: ${date} UTC.`,
  `Command: \`node --import tsx bench/data.ts ${process.argv.slice(2).join(' ')}\`. Images/s through the prefetching stream (sharp decode on libuv threads, augmentation and collation on the main thread).`,
  '',
  '| pipeline | images/s (wall) | CPU ms / image |',
  '| --- | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${r.ips.toFixed(0)} | ${r.cpuMs.toFixed(2)} |`),
  '',
  `CPU ms per image counts every thread of the process, so it does not depend on the machine's load: an idle ${os.cpus().length}-core machine bounds the loader at about ${os.cpus().length} × 1000 / (CPU ms) images/s (VOC-size: ${((os.cpus().length * 1000) / rows[2]!.cpuMs).toFixed(0)}/s), while the wall-clock column is what this loaded machine gave.`,
  '',
];
lines.push(`mini-VOC build (2000 + 300 images of 64², default options): ${buildSeconds.toFixed(1)} s wall, ${((buildCpu.user + buildCpu.system) / 1e6).toFixed(1)} s CPU (the wall time grows with the machine's load).`, '');
const need = 3 * B; // adversarial-semi: labeled + unlabeled + ground-truth batches per iteration
if (ms) {
  lines.push(
    `Training consumes ${need} images per adversarial-semi iteration (3 streams × batch ${B}); at ${ms} ms/iteration (quickstart) that is ${((need * 1000) / ms).toFixed(0)} images/s, ${(rows[0]!.ips / ((need * 1000) / ms)).toFixed(1)}× below what the loader delivers without cache (${(rows[1]!.ips / ((need * 1000) / ms)).toFixed(1)}× with it): training never waits on mini-VOC data.`,
  );
} else {
  lines.push(`Training consumes ${need} images per adversarial-semi iteration (3 streams × batch ${B}): the loader keeps up while an iteration takes longer than ${((need * 1000) / rows[0]!.ips).toFixed(0)} ms (no cache) or ${((need * 1000) / rows[1]!.ips).toFixed(0)} ms (cached).`);
}
lines.push(
  `For VOC (batch 10, 30 images per iteration) the loader keeps up while an iteration takes longer than ${((30 * 1000) / rows[2]!.ips).toFixed(0)} ms; a DeepLab-v2 ResNet-101 iteration at 321² on CPU takes far longer.`,
  '',
);
const section = lines.join('\n');
console.log(section);
if (process.argv.includes('--write')) writeResultsSection('## Data', section);
