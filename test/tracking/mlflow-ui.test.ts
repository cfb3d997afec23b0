/**
 * A person's view: Debian's Chromium, driven by playwright-core, opens the real MLflow UI and
 * finds the sweep's parent run, its two child runs (after expanding the parent) and a child's
 * sweep-axis param. Screenshots go to .cache/screenshots/ (ignored by git).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { trackingWith } from '../../src/tracking/open.js';
import { readShipState } from '../../plugins/trackers/mlflow/shipper.js';
import { MlflowSink } from '../../plugins/trackers/mlflow/index.js';
import { serverForTests } from './mlflow-server.js';
import { quietLog } from '../support/log.js';

const CHROMIUM = process.env.ABLATE_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.cache/screenshots');

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
