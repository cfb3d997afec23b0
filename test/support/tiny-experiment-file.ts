/**
 * The tiny experiment as a YAML file, for tests that load it the way a user's file is loaded
 * (loadExperiment, `ablate run` in a child process, a sweep). In-process tests that need no file
 * use tinyExperiment() from tiny-plugins.ts instead.
 *
 * The base names the tiny plugins' components; a test replaces whole top-level blocks with what
 * it is about (a block set to `undefined` is left out). Every block is written on one line in flow
 * style, so a test can name a line by position (`lines.length + 1` is the first line it appends).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { tinyPluginsFile } from './paths.js';

export type TinyBlocks = Record<string, unknown>;

/** The blocks every tiny experiment file starts from; runs go to `<dir>/runs` when a folder is named. */
function tinyBlocks(dir?: string): TinyBlocks {
  return {
    name: 'tiny',
    plugins: [tinyPluginsFile],
    runtime: { backend: 'cpu' },
    model: { type: 'test-tiny-model' },
    optimizer: { type: 'test-sgd', lr: 0.5 },
    dataset: { type: 'test-tiny-data' },
    metrics: { acc: { type: 'test-pixel-acc' } },
    trainer: { type: 'test-supervised', iterations: 3 },
    progress: { bar: 'never', log_every: 0 },
    ...(dir === undefined ? {} : { output: { dir: path.join(dir, 'runs') } }),
  };
}

/** A constant schedule at the tiny SGD's learning rate (without one, the scheduler's default lr applies). */
export const TINY_SCHEDULER = { type: 'constant', lr: 0.5 };

/**
 * The experiment's lines, one a block: the base with `blocks` replacing (or, as undefined, dropping)
 * its blocks. Without `dir` there is no output block (the engine's default applies).
 */
export function tinyExperimentLines(blocks: TinyBlocks = {}, dir?: string): string[] {
  const merged: TinyBlocks = { ...tinyBlocks(dir), ...blocks };
  return Object.entries(merged).flatMap(([key, value]) => (value === undefined ? [] : [`${key}: ${stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim()}`]));
}

export interface TinyFileOptions {
  /** The file's name inside `dir` (default `tiny.yaml`). */
  file?: string;
  /** Comment lines written first, each as `# <line>`. */
  header?: readonly string[];
  /** Raw YAML lines written after the blocks (a block-style section, say a sweep grid). */
  tail?: readonly string[];
}

/** Writes the tiny experiment into `dir` and returns the file's path. */
export function writeTinyExperiment(dir: string, blocks: TinyBlocks = {}, opts: TinyFileOptions = {}): string {
  const file = path.join(dir, opts.file ?? 'tiny.yaml');
  const lines = [...(opts.header ?? []).map((l) => `# ${l}`), ...tinyExperimentLines(blocks, dir), ...(opts.tail ?? [])];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
