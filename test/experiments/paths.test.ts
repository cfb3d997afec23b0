// Every path option of every experiment and example (each sweep cell too) names a file or folder
// inside the repository that exists, or one of the documented data/weights locations a user fills
// in (README: "The real VOC run"). Catches a `_base_` fragment whose paths are not written relative
// to itself, and an example that extends our experiments from another folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expandSweep } from '../../src/config/index.js';
import { visitPathOptions } from '../../src/config/file-paths.js';
import { ensureBuilt, root } from '../support/cli.js';

/** Filled in by the user (downloads) or built on first use (mini-VOC); not in git. */
const DOCUMENTED = ['data/mini-voc', 'data/VOCdevkit/VOC2012', 'data/cityscapes', 'weights/resnet101COCO-41f33a49.safetensors'].map((p) => path.join(root, p));

function experimentFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === '_base_' ? [] : experimentFiles(full);
    return name.endsWith('.yaml') ? [full] : [];
  });
}

test('every path option of every experiment and example points at an existing or documented location in the repo', async () => {
  ensureBuilt(); // examples/plugins import the package (dist/)
  const files = [...experimentFiles(path.join(root, 'experiments')), ...experimentFiles(path.join(root, 'examples'))].sort();
  assert.ok(files.length >= 25, `found ${files.length} experiment files`);
  const seen = new Map<string, Set<string>>();
  const problems: string[] = [];
  for (const file of files) {
    // An empty environment: VOC_ROOT & co. set on this machine must not decide the outcome.
    for (const cell of await expandSweep(file, { env: {} })) {
      const e = cell.experiment;
      visitPathOptions(e.config, e.registry, (key, value) => {
        const abs = path.resolve(e.baseDir, value);
        const where = `${path.relative(root, file)}${cell.name === 'base' ? '' : `#${cell.name}`} ${key} = ${value}`;
        if (!seen.has(key)) seen.set(key, new Set());
        seen.get(key)!.add(path.relative(root, abs));
        if (path.relative(root, abs).startsWith('..')) problems.push(`${where}: ${abs} is outside the repository`);
        else if (!existsSync(abs) && !DOCUMENTED.includes(abs)) problems.push(`${where}: ${abs} does not exist and is not a documented location`);
      });
    }
  }
  assert.deepEqual(problems, []);
  // The options this checks are really found (a schema without `format: 'path'` would pass vacuously).
  assert.deepEqual([...seen.keys()].sort(), ['dataset.root', 'model.pretrained']);
  assert.deepEqual([...seen.get('dataset.root')!].sort(), ['data/VOCdevkit/VOC2012', 'data/cityscapes', 'data/mini-voc']);
});
