// A mistyped experiment path: a located error that names the file meant, when one is near.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment } from '../../src/config/load.js';
import { AblateError } from '../../src/errors.js';
import { root } from '../support/cli.js';

async function failure(file: string): Promise<AblateError> {
  try {
    await loadExperiment(file);
  } catch (e) {
    assert.ok(e instanceof AblateError, String(e));
    return e;
  }
  assert.fail(`${file} loaded`);
}

test('a mistyped experiment path suggests the shipped file it was close to', async () => {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const typo = await failure('experiments/mini-voc/adv-semmi.yaml');
    assert.equal(typo.code, 'config.file-not-found');
    assert.match(typo.message, /experiment file not found: experiments\/mini-voc\/adv-semmi\.yaml/);
    assert.equal(typo.hint, 'did you mean experiments/mini-voc/adv-semi.yaml?');
    // A missing folder level: the nearest existing folder is searched below.
    const level = await failure('experiments/quickstart/quickstart.yaml');
    assert.equal(level.hint, 'did you mean experiments/quickstart.yaml?');
    const far = await failure(path.join('experiments', 'nothing-like-any-file-at-all.yaml'));
    assert.doesNotMatch(far.hint ?? '', /did you mean/);
  } finally {
    process.chdir(cwd);
  }
});
