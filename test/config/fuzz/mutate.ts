/**
 * Seeded mutations of experiment files for the config fuzz test: the kinds of damage an unlucky
 * edit or a hostile file does (deleted lines, shifted indentation, odd scalars, unknown keys,
 * duplicated lines, truncation, bytes that are not UTF-8), reproducible from a seed.
 */

/** mulberry32: a small, fast, seedable generator (same sequence for the same seed everywhere). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCALARS = [
  '0', '-1', '1', '3.5', '1e309', '-0', '0x1F', '0o17', '.inf', '-.inf', '.nan', 'null', '~', 'true', 'false', "''", '""',
  '[]', '{}', '[1, 1]', '[a, [b, [c]]]', '{type: nope}', '{a: 1, a: 2}', '${model}', '${nope.nothing}', '${env:ABLATE_FUZZ_UNSET}',
  '"exp-${model}"', '"${trainer}"', '$${literal}', '*undefined_alias', '&anchor', '!!binary aGVsbG8=', '!custom x', "'unterminated",
  '"bad \\q escape"', '- item', ': colon', '#comment', '|', '>-', 'x'.repeat(300), '日本語', '😀', '..', '.', 'nope.yaml', '/',
  '2024-01-01', '1_000', '+12', 'yes', 'No', 'NaN', 'Infinity',
];

const KEYS = ['type', '__proto__', 'extends', 'plugins', 'sweep', 'grid', 'variants', 'seed', 'name', 'lr', 'model', 'zzz_unknown', 'depth', 'iterations', 'a.b', 'x~', 'y+', '0', '"quoted key"', '? complex'];

export type Mutation = 'delete-line' | 'indent' | 'scalar' | 'key' | 'duplicate-line' | 'truncate' | 'bytes' | 'swap-lines';
const MUTATIONS: Mutation[] = ['delete-line', 'indent', 'scalar', 'scalar', 'key', 'key', 'duplicate-line', 'truncate', 'bytes', 'swap-lines'];

/** Applies 1–3 random mutations to `text`; returns the bytes and what was done. */
export function mutate(text: string, random: () => number): { bytes: Buffer; applied: Mutation[] } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  let lines = text.split('\n');
  const applied: Mutation[] = [];
  let rawBytes: Buffer | undefined;
  const n = 1 + Math.floor(random() * 3);
  for (let k = 0; k < n; k++) {
    const m = pick(MUTATIONS);
    applied.push(m);
    const i = Math.floor(random() * lines.length);
    const line = lines[i] ?? '';
    switch (m) {
      case 'delete-line':
        lines.splice(i, 1);
        break;
      case 'indent': {
        const indent = /^\s*/.exec(line)![0];
        const shifted = pick(['', ' ', '  ', '    ', '\t', indent + '  ', indent.slice(2), indent + ' ']);
        lines[i] = shifted + line.trimStart();
        break;
      }
      case 'scalar': {
        const colon = line.indexOf(': ');
        const value = pick(SCALARS);
        if (colon >= 0) lines[i] = `${line.slice(0, colon + 2)}${value}`;
        else if (/^\s*- /.test(line)) lines[i] = line.replace(/- .*/, `- ${value}`);
        else lines[i] = `${line} ${value}`;
        break;
      }
      case 'key': {
        const indent = pick(['', '  ', '    ', /^\s*/.exec(line)![0]]);
        const colon = line.indexOf(':');
        if (colon > 0 && random() < 0.5) lines[i] = `${/^\s*/.exec(line)![0]}${pick(KEYS)}${line.slice(colon)}`;
        else lines.splice(i, 0, `${indent}${pick(KEYS)}: ${pick(SCALARS)}`);
        break;
      }
      case 'duplicate-line':
        lines.splice(i, 0, line);
        break;
      case 'swap-lines': {
        const j = Math.floor(random() * lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', line];
        break;
      }
      case 'truncate': {
        const all = lines.join('\n');
        lines = all.slice(0, Math.floor(random() * all.length)).split('\n');
        break;
      }
      case 'bytes': {
        const all = Buffer.from(lines.join('\n'), 'utf8');
        const at = Math.floor(random() * (all.length + 1));
        const junk = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 3) }, () => Math.floor(random() * 256)));
        rawBytes = Buffer.concat([all.subarray(0, at), junk, all.subarray(at)]);
        lines = rawBytes.toString('latin1').split('\n');
        break;
      }
    }
  }
  // After raw bytes went in, the lines hold them as latin1 characters: write them back as such.
  return { bytes: Buffer.from(lines.join('\n'), rawBytes ? 'latin1' : 'utf8'), applied };
}
