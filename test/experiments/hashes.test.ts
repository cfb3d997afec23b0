// Every experiment keeps its run identity: the resolved config's hash (and every sweep cell's) is
// pinned in hashes.json. Restructuring experiments/ (shared bases, moved files) must not change
// what a file resolves to; a change that is meant (new defaults, a new knob) updates the pins in
// the same commit and says why:  UPDATE_HASHES=1 npm test -- test/experiments/hashes
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkFile, expandSweep, isFragmentFile } from '../../src/config/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pinsFile = path.join(root, 'test/experiments/hashes.json');

type Pins = Record<string, string | Record<string, string>>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(full);
    return e.name.endsWith('.yaml') || e.name.endsWith('.yml') ? [full] : [];
  });
}

/** What every experiment file resolves to today: its hash, or each sweep cell's by cell name. */
async function currentHashes(): Promise<Pins> {
  const out: Pins = {};
  for (const file of yamlFiles(path.join(root, 'experiments')).sort()) {
    if (isFragmentFile(file)) continue;
    const rel = path.relative(root, file).split(path.sep).join('/');
    const check = await checkFile(file);
    if (check.kind === 'sweep') out[rel] = Object.fromEntries((await expandSweep(file)).map((c) => [c.name, c.experiment.hash]));
    else if (check.hash) out[rel] = check.hash;
  }
  return out;
}

test('every experiment resolves to its pinned hash (run identity)', async () => {
  const now = await currentHashes();
  if (process.env.UPDATE_HASHES === '1') {
    writeFileSync(pinsFile, `${JSON.stringify(now, null, 2)}\n`);
    return;
  }
  const pinned = JSON.parse(readFileSync(pinsFile, 'utf8')) as Pins;
  assert.ok(Object.keys(now).length >= 25, `expected the repository's experiments, found ${Object.keys(now).length}`);
  assert.deepEqual(
    Object.keys(now).sort(),
    Object.keys(pinned).sort(),
    'the set of experiment files changed: pin the new ones (UPDATE_HASHES=1) or restore the removed ones',
  );
  const changed = Object.keys(pinned).filter((f) => JSON.stringify(now[f]) !== JSON.stringify(pinned[f]));
  assert.deepEqual(changed, [], `these experiments no longer resolve to their pinned config (compare with \`ablate print\` on the previous commit): ${changed.join(', ')}`);
});
