/**
 * A person's view: Debian's Chromium, driven by playwright-core, opens the real MLflow UI and
 * finds the sweep's parent run, its two child runs (after expanding the parent) and a child's
 * sweep-axis param; then an engine sweep's short cell names, a cell's evaluation images
 * (samples.png, the confusion heatmap), its metrics under the train/ val/ sys/ prefixes, its System metrics tab
 * and the report on the parent. Screenshots go to .cache/screenshots/ (ignored by git); with
 * ABLATE_UPDATE_SCREENSHOTS=1 the one README shows is rewritten (docs/images/).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { trackingWith } from '../../src/tracking/open.js';
import { readShipState } from '../../plugins/trackers/mlflow/shipper.js';
import { MlflowSink } from '../../plugins/trackers/mlflow/index.js';
import { serverForTests } from './mlflow-server.js';
import { quietLog } from '../support/log.js';
import { runSweep, type SweepCellInput } from '../../src/engine/sweep.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';
import { mlflowEntry } from '../support/mlflow-entry.js';

const CHROMIUM = process.env.ABLATE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.cache/screenshots');
/** The screenshot README shows, rewritten by `ABLATE_UPDATE_SCREENSHOTS=1 npm test -- test/tracking/mlflow-ui.test.ts`. */
const README_SHOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/images/mlflow-eval-samples.png');

function chromiumSkip(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const msg = `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${msg}`);
  process.stderr.write(`\n!!! SKIPPING the MLflow UI browser test: ${msg} !!!\n\n`);
  return msg;
}

const noBrowser = chromiumSkip();
const { server, skip } = noBrowser ? { server: undefined, skip: noBrowser } : await serverForTests();
let browser: Browser | undefined;

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('MLflow UI shows the sweep parent, its child runs and their params', { skip, timeout: 240_000 }, async () => {
  const uri = server!.uri;
  const tracker = trackingWith([{ name: 'mlflow', sink: new MlflowSink({ trackingUri: uri, log: quietLog, intervalMs: 100 }) }], quietLog);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-ui-'));
  const parent = await tracker.startRun({ name: 'paper-table', experiment: 'ui-sweep', params: { 'sweep.axes': 'dataset.labeled_fraction' }, tags: {}, runDir: dir });
  for (const frac of ['0.125', '0.5']) {
    const child = await tracker.startRun({
      name: `labeled_fraction=${frac}`,
      experiment: 'ui-sweep',
      params: { 'dataset.labeled_fraction': frac, 'trainer.type': 'adversarial-semi' },
      tags: {},
      runDir: path.join(dir, frac),
      parentRunId: parent.id,
    });
    for (let i = 0; i <= 10; i++) child.logMetrics(i * 100, { 'val/miou': Number(frac) * i / 10 });
    await child.end('FINISHED');
  }
  await parent.end('FINISHED');
  await tracker.close();
  const { experimentId } = readShipState(dir, uri)!;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Flags known to work on this machine kind: no sandbox as root, and no background network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  mkdirSync(SHOTS, { recursive: true });
  await page.goto(`${uri}/#/experiments/${experimentId}/runs`, { waitUntil: 'domcontentloaded' });
  const parentRow = page.locator('[role=row]', { hasText: 'paper-table' }).first();
  await parentRow.waitFor({ timeout: 60_000 });
  // Child runs are folded under the parent: expand it.
  await parentRow.locator('button[data-component-id*="runnamecellrenderer"]').first().click();
  for (const frac of ['0.125', '0.5']) await page.getByText(`labeled_fraction=${frac}`, { exact: true }).first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-sweep-runs.png') });

  await page.getByText('labeled_fraction=0.125', { exact: true }).first().click();
  const param = page.getByText('dataset.labeled_fraction', { exact: true }).first();
  await param.waitFor({ timeout: 30_000 });
  // The child's page links its parent run once nesting is resolved.
  await page.getByRole('link', { name: 'paper-table' }).first().waitFor({ timeout: 30_000 });
  await param.scrollIntoViewIfNeeded();
  const body = await page.innerText('body');
  assert.match(body, /dataset\.labeled_fraction/);
  assert.match(body, /0\.125/);
  assert.match(body, /adversarial-semi/);
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-child-run.png') });
});

test('MLflow UI shows an engine sweep: short cell names and, in a cell, its evaluation images', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-ui-engine-'));
  const cells: SweepCellInput[] = [0.5, 0.05].map((lr, i) => {
    const e = tinyExperiment(out, { trainer: { iterations: 4 }, checkpoint: { every: 0 } });
    Object.assign(e.config, { name: 'ui-engine', metrics: { acc: { type: 'test-pixel-acc' }, miou: { type: 'miou' } }, trackers: [mlflowEntry(uri)] });
    (e.config.optimizer as Record<string, unknown>).lr = lr;
    return { name: `lr=${lr}`, labels: { lr }, diff: { 'optimizer.lr': lr }, experiment: { ...e, canonicalYaml: `${JSON.stringify(e.config)}\n`, hash: `${'ab'[i]}${e.hash.slice(1)}` } };
  });
  const r = await runSweep(cells, { registry: tinyRegistry(), file: 'ui-engine.yaml', log: quietLog, out: () => {} });
  assert.equal(r.status, 'FINISHED', JSON.stringify(r.cells));
  const parentState = readShipState(r.sweepDir, uri)!;
  const cellState = readShipState(r.cells[0]!.runDir!, uri)!;

  browser ??= await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  mkdirSync(SHOTS, { recursive: true });
  await page.goto(`${uri}/#/experiments/${parentState.experimentId}/runs`, { waitUntil: 'domcontentloaded' });
  const parentRow = page.locator('[role=row]', { hasText: 'sweep:ui-engine' }).first();
  await parentRow.waitFor({ timeout: 60_000 });
  await parentRow.locator('button[data-component-id*="runnamecellrenderer"]').first().click();
  // The cells under the parent, by their short names (both lr values are reciprocals).
  for (const shown of ['1/2', '1/20']) await page.getByText(shown, { exact: true }).first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-engine-sweep.png') });

  // A cell's artifacts: the evaluation folder holds the sample grid and the confusion heatmap.
  await page.goto(`${uri}/#/experiments/${cellState.experimentId}/runs/${cellState.runId}/artifacts`, { waitUntil: 'domcontentloaded' });
  await page.getByText('eval', { exact: true }).first().click({ timeout: 60_000 });
  await page.getByText('iter-0000004', { exact: true }).first().click({ timeout: 30_000 });
  for (const name of ['samples.png', 'confusion_matrix.png', 'per_class_iou.md']) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
  await page.getByText('samples.png', { exact: true }).first().click();
  // The preview is the image itself, loaded from the server (MLflow shows it from a blob URL):
  // an <img> as wide as the grid once decoded.
  // Sizes: the grid of 3 tiny images is over 600 px wide, the 3-class heatmap 100–400 px; UI icons are smaller.
  const shown = (lo: number, hi: number) => page.waitForFunction(([a, b]) => [...document.querySelectorAll('img')].some((i) => i.naturalWidth >= a! && i.naturalWidth < b! && i.naturalHeight >= 100), [lo, hi], { timeout: 30_000 });
  await shown(600, 10_000);
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-eval-samples.png') });
  if (process.env.ABLATE_UPDATE_SCREENSHOTS === '1') {
    // README's picture of the MLflow UI: this page without the assistant panel, as a small palette PNG.
    const shot = await page.screenshot({ clip: { x: 0, y: 0, width: 1110, height: 800 } });
    await sharp(shot).resize({ width: 900 }).png({ palette: true, colours: 64, compressionLevel: 9 }).toFile(README_SHOT);
  }
  await page.getByText('confusion_matrix.png', { exact: true }).first().click();
  await shown(100, 400);
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-confusion-matrix.png') });

  // The cell's System metrics tab is not empty: the engine's system/ samples are there.
  await page.goto(`${uri}/#/experiments/${cellState.experimentId}/runs/${cellState.runId}/system-metrics`, { waitUntil: 'domcontentloaded' });
  await page.getByText(/cpu_utilization_percentage/).first().waitFor({ timeout: 60_000 });
  await page.getByText(/system_memory_usage_megabytes/).first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-system-metrics.png') });

  // The cell's Model metrics tab: evaluation results, training values and bookkeeping apart, under
  // the prefixes the MLflow sink gives them (docs/tracking.md).
  await page.goto(`${uri}/#/experiments/${cellState.experimentId}/runs/${cellState.runId}/model-metrics`, { waitUntil: 'domcontentloaded' });
  // MLflow makes a section of each prefix (in name order) and titles a chart by the rest of its name.
  for (const section of ['sys', 'train', 'val']) await page.getByText(section, { exact: true }).first().waitFor({ timeout: 60_000 });
  await page.getByPlaceholder('Search metric charts').fill('val/');
  // Each chart's legend names the run and the full metric key.
  // (Charts below the fold are drawn only when scrolled to, so these are the first sections' ones.)
  for (const key of ['sys/eval/seconds', 'val/mean_acc', 'val/miou']) await page.getByText(`(${key})`, { exact: false }).first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-model-metrics.png') });
  await page.getByPlaceholder('Search metric charts').fill('loss');
  await page.getByText('(train/loss)', { exact: false }).first().waitFor({ timeout: 30_000 });
  assert.equal(await page.getByText(/\((miou|loss|it_per_sec)\)/).count(), 0, 'no metric left under its unprefixed name');

  // The parent run holds `ablate report`'s table and plot of the sweep.
  await page.goto(`${uri}/#/experiments/${parentState.experimentId}/runs/${parentState.runId}/artifacts`, { waitUntil: 'domcontentloaded' });
  await page.getByText('report', { exact: true }).first().click({ timeout: 60_000 });
  for (const name of ['report.md', 'report.json', 'report.png']) await page.getByText(name, { exact: true }).first().waitFor({ timeout: 30_000 });
  await page.getByText('report.png', { exact: true }).first().click();
  await shown(300, 10_000);
  await page.screenshot({ path: path.join(SHOTS, 'mlflow-sweep-report.png') });
});
