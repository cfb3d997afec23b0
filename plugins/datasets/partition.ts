/**
 * The labeled/unlabeled split of a training list (the dataset plugins' `labeled_fraction`). The
 * released code of Hung et al. (BMVC 2018) shuffles the ids unseeded and keeps the first
 * floor(f·N) as labeled; here the shuffle is seeded, and the split is written to a file on first
 * use so that it can be given back to reproduce a run exactly.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError, SeededRng, shuffled } from '../../src/index.js';

export interface Partition {
  labeled: string[];
  unlabeled: string[];
}

export interface PartitionFile extends Partition {
  format: 'ablate-partition/1';
  /** The list the ids came from, for the reader's benefit. */
  source?: string;
  labeled_fraction?: number;
  split_seed?: number;
  total: number;
}

/** floor(f·N), robust to float noise (0.3·10 must give 3, not 2). */
export function labeledCount(fraction: number, total: number): number {
  return Math.min(total, Math.floor(fraction * total + 1e-9));
}

/** Labeled = the first floor(f·N) ids of a seeded shuffle; unlabeled = the rest, in shuffle order. */
export function splitIds(ids: readonly string[], fraction: number, seed: number): Partition {
  const order = shuffled(ids, new SeededRng(seed));
  const n = labeledCount(fraction, ids.length);
  return { labeled: order.slice(0, n), unlabeled: order.slice(n) };
}

export function writePartitionFile(file: string, content: Omit<PartitionFile, 'format'>): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const body: PartitionFile = { format: 'ablate-partition/1', ...content };
  writeFileSync(file, `${JSON.stringify(body, null, 1)}\n`);
}

/**
 * Reads a partition file and checks it against the ids of the training list: every id must be in
 * the list, and no id may be both labeled and unlabeled.
 */
export function readPartitionFile(file: string, knownIds?: ReadonlySet<string>): PartitionFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AblateError('data.bad-partition', code === 'ENOENT' ? `partition file ${file} does not exist` : `partition file ${file} is not valid JSON (${(e as Error).message})`, {
      where: { file, key: 'dataset.partition_file' },
    });
  }
  const p = parsed as Partial<PartitionFile>;
  if (!p || p.format !== 'ablate-partition/1' || !Array.isArray(p.labeled) || !Array.isArray(p.unlabeled)) {
    throw new AblateError('data.bad-partition', `partition file ${file} is not an ablate partition (expected format 'ablate-partition/1' with 'labeled' and 'unlabeled' id lists)`, {
      where: { file, key: 'dataset.partition_file' },
    });
  }
  const labeled = new Set(p.labeled);
  for (const id of p.unlabeled) {
    if (labeled.has(id)) throw new AblateError('data.bad-partition', `partition file ${file}: id '${id}' is both labeled and unlabeled`, { where: { file } });
  }
  if (knownIds) {
    for (const id of [...p.labeled, ...p.unlabeled]) {
      if (!knownIds.has(id)) {
        throw new AblateError('data.bad-partition', `partition file ${file}: id '${id}' is not in the training list`, {
          where: { file },
          hint: 'The partition belongs to a different list or data set.',
        });
      }
    }
  }
  return { total: p.labeled.length + p.unlabeled.length, ...p } as PartitionFile;
}
