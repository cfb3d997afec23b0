// The progress display as a user sees it: a real run on a pseudo-terminal (util-linux `script`),
// its output replayed through a small terminal model, and the same run piped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures', 'progress-run.ts');
const hasScript = spawnSync('script', ['--version']).status === 0;

/** What a terminal shows after `out`: carriage return, erase line (CSI 2K) and newline; other CSI ignored. */
function screen(out: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    const row = lines.length - 1;
    if (c === '\x1b') {
      const m = /^\x1b\[[?0-9;]*[A-Za-z]/.exec(out.slice(i));
      if (m) {
        if (m[0] === '\x1b[2K') lines[row] = '';
        i += m[0].length - 1;
      }
    } else if (c === '\r') col = 0;
    else if (c === '\n') {
      lines.push('');
      col = 0;
    } else {
      const line = lines[row]!.padEnd(col);
      lines[row] = line.slice(0, col) + c + line.slice(col + 1);
      col++;
    }
  }
  return lines.filter((l) => l !== '');
}

const isBar = (l: string) => l.startsWith('tiny |');

test('on a terminal every log line is printed above the progress bar, none into it', { skip: !hasScript && 'util-linux `script` is not installed' }, () => {
  const cmd = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(fixture)}`;
  const r = spawnSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, CI: '', COLUMNS: '200' }, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /\x1b\[2K/, 'the status line was drawn');
  const lines = screen(r.stdout);
  const evals = lines.filter((l) => l.includes(' eval @'));
  assert.deepEqual(evals.map((l) => /eval @(\d+)/.exec(l)?.[1]), ['4', '8', '12'], lines.join('\n'));
  for (const l of evals) assert.match(l, /^tiny eval @\d+ \(3 images, [\d.]+s\): pixel_acc [\d.]+/, `an evaluation line is whole: ${JSON.stringify(l)}`);
  assert.ok(lines.includes('a library warns mid-run'), lines.join('\n'));
  // The bar is left once, complete, as the last line of the run before the final evaluation.
  const bars = lines.filter((l) => l.includes('|') && l.includes('it/s'));
  assert.equal(bars.length, 1, lines.join('\n'));
  assert.ok(isBar(bars[0]!) && bars[0]!.includes('12/12'), bars[0]);
  for (const l of lines.filter((x) => !isBar(x))) assert.doesNotMatch(l, /it\/s|█|░/, `a log line holds no part of the bar: ${JSON.stringify(l)}`);
  assert.equal(lines.at(-1), 'done FINISHED');
});

test('without a terminal the run prints one plain line per event', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture], { encoding: 'utf8', env: { ...process.env, CI: '' }, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\x1b|\r/, 'no terminal control in piped output');
  const lines = r.stderr.trim().split('\n');
  assert.deepEqual(lines.filter((l) => l.includes(' eval @')).map((l) => /eval @(\d+)/.exec(l)?.[1]), ['4', '8', '12']);
  assert.ok(lines.includes('a library warns mid-run'));
  assert.ok(lines.filter((l) => /^tiny it \d+\/12 /.test(l)).length >= 6, r.stderr);
  assert.equal(r.stdout, 'done FINISHED\n');
});
