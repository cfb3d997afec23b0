/**
 * Checkpoints: every network's state dict (the slots' and the trainer's own), every optimizer's
 * state, the trainer's own state (data stream positions), the run's step generator and the
 * iteration to continue from. Tensors go to `iter-NNNNNNN.safetensors`, named `<slot>/<name>`
 * (e.g. `model/layer1.0.conv1.weight`, `optimizer/<state key>`) or `trainer/<network>/<name>` for
 * a trainer's network; everything else to the JSON sidecar `iter-NNNNNNN.json`, written last: a
 * checkpoint exists only once its sidecar does, so a crash while writing never leaves a half
 * checkpoint that resume would pick. A checkpoint holds finite numbers only: one with a NaN or
 * ±Infinity anywhere (a diverged batch-norm variance, an exploded weight) is refused before
 * anything is written, so "the last checkpoint" is always one training can continue from.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../runtime/tf.js';
import { AblateError } from '../errors.js';
import type { Network, NamedTensorMap, Optimizer, Trainer } from '../plugin/contracts.js';
import { readSafetensors, writeSafetensors, type RawTensor, type TensorToWrite } from '../weights/safetensors.js';

export const CHECKPOINT_DIR = 'checkpoints';
const FORMAT = 1;

export interface CheckpointParts {
  /** Networks by slot (`model`, and any slot of a pack whose component is a network). */
  networks: ReadonlyMap<string, Network>;
  /** The trainer's own networks, by the name it gives them. */
  trainerNetworks?: ReadonlyMap<string, Network>;
  /** Optimizers by slot (`optimizer`, …). */
  optimizers: ReadonlyMap<string, Optimizer>;
  trainer?: Trainer;
  /** The run's step generator. */
  rng?: { getState(): number; setState(state: number): void };
}

/** Every network of a checkpoint with the prefix of its tensor names. */
export function networkPrefixes(parts: Pick<CheckpointParts, 'networks' | 'trainerNetworks'>): [prefix: string, net: Network][] {
  return [...parts.networks, ...[...(parts.trainerNetworks ?? [])].map(([name, net]) => [`trainer/${name}`, net] as [string, Network])];
}

export interface CheckpointMeta {
  format: number;
  /** The next iteration to run (= iterations completed). */
  iteration: number;
  configHash: string;
  seed: number;
  createdAt: string;
  trainerState: Record<string, unknown>;
  /** State of the run's step generator (absent in checkpoints written before it existed). */
  rngState?: number;
  /** Why it was written: periodic, final, interrupted. */
  reason: string;
  tensors: string;
}

export interface CheckpointEntry {
  iteration: number;
  tensorsFile: string;
  metaFile: string;
}

function stem(iteration: number): string {
  return `iter-${String(iteration).padStart(7, '0')}`;
}

/** A tensor's values as the typed array safetensors stores for its dtype (bool as U8). */
function capture(name: string, t: tf.Tensor): TensorToWrite {
  const values = t.dataSync();
  if (t.dtype === 'float32') return { shape: [...t.shape], data: Float32Array.from(values) };
  if (t.dtype === 'int32') return { shape: [...t.shape], data: Int32Array.from(values) };
  if (t.dtype === 'bool') return { shape: [...t.shape], data: Uint8Array.from(values) };
  throw new AblateError('checkpoint.dtype', `cannot checkpoint tensor '${name}' of dtype ${t.dtype}`);
}

/** Non-finite values per tensor name (float tensors only; integers and booleans are always finite). */
function nonFiniteCounts(tensors: ReadonlyMap<string, TensorToWrite>): [name: string, count: number][] {
  const out: [string, number][] = [];
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array)) continue;
    let n = 0;
    for (const v of t.data) if (!Number.isFinite(v)) n++;
    if (n > 0) out.push([name, n]);
  }
  return out;
}

/**
 * Writes a checkpoint for `meta.iteration` into `<runDir>/checkpoints` and prunes to `keepLast`.
 * Throws `checkpoint.non-finite` (writing nothing) when any tensor holds a NaN or ±Infinity.
 */
export function saveCheckpoint(runDir: string, parts: CheckpointParts, meta: Omit<CheckpointMeta, 'format' | 'createdAt' | 'tensors' | 'trainerState'>, keepLast: number): CheckpointEntry {
  const dir = path.join(runDir, CHECKPOINT_DIR);
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, TensorToWrite>();
  const put = (key: string, t: tf.Tensor) => {
    if (tensors.has(key)) throw new AblateError('checkpoint.name-clash', `two parts of the run write the checkpoint tensor '${key}'`, { hint: 'slots, optimizer state keys and trainer network names must not overlap', exitCode: 1 });
    tensors.set(key, capture(key, t));
  };
  for (const [prefix, net] of networkPrefixes(parts)) {
    for (const [name, v] of net.stateDict()) put(`${prefix}/${name}`, v);
  }
  for (const [slot, opt] of parts.optimizers) {
    // tidy: should getState build fresh tensors (e.g. a step count), they die here; live slot
    // variables and kept tensors are never disposed by tidy.
    tf.tidy(() => {
      for (const [name, t] of Object.entries(opt.getState())) put(`${slot}/${name}`, t);
    });
  }
  const bad = nonFiniteCounts(tensors);
  if (bad.length > 0) {
    const total = bad.reduce((a, [, n]) => a + n, 0);
    const last = listCheckpoints(runDir).at(-1);
    const names = bad.slice(0, 4).map(([k, n]) => `${k} (${n})`).join(', ') + (bad.length > 4 ? `, … ${bad.length - 4} more` : '');
    throw new AblateError('checkpoint.non-finite', `iteration ${meta.iteration}: the training state holds ${total} non-finite values (${names}); no checkpoint was written and training stopped`, {
      exitCode: 1,
      hint: last
        ? `the last finite checkpoint is ${path.relative(process.cwd(), last.tensorsFile)} (iteration ${last.iteration}); lower the learning rate, then resume from it: ablate run --resume ${path.relative(process.cwd(), runDir) || '.'} --set optimizer.lr=<lower>`
        : 'no finite checkpoint was written before this; lower the learning rate or check the data',
    });
  }
  const s = stem(meta.iteration);
  const tensorsFile = path.join(dir, `${s}.safetensors`);
  const metaFile = path.join(dir, `${s}.json`);
  writeSafetensors(tensorsFile, tensors, { format: 'ablate-checkpoint', iteration: String(meta.iteration) });
  const full: CheckpointMeta = {
    format: FORMAT,
    ...meta,
    createdAt: new Date().toISOString(),
    trainerState: parts.trainer?.getState() ?? {},
    ...(parts.rng ? { rngState: parts.rng.getState() } : {}),
    tensors: path.basename(tensorsFile),
  };
  const tmp = `${metaFile}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(full, null, 2)}\n`);
  renameSync(tmp, metaFile);
  pruneCheckpoints(runDir, keepLast);
  return { iteration: meta.iteration, tensorsFile, metaFile };
}

/** Complete checkpoints of a run folder, oldest first. */
export function listCheckpoints(runDir: string): CheckpointEntry[] {
  const dir = path.join(runDir, CHECKPOINT_DIR);
  if (!existsSync(dir)) return [];
  const out: CheckpointEntry[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^iter-(\d+)\.json$/.exec(f);
    if (!m) continue;
    const tensorsFile = path.join(dir, f.replace(/\.json$/, '.safetensors'));
    if (!existsSync(tensorsFile)) continue;
    out.push({ iteration: Number(m[1]), tensorsFile, metaFile: path.join(dir, f) });
  }
  return out.sort((a, b) => a.iteration - b.iteration);
}

function pruneCheckpoints(runDir: string, keepLast: number): void {
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keepLast))) {
    rmSync(old.metaFile, { force: true });
    rmSync(old.tensorsFile, { force: true });
  }
}

/**
 * Finds a checkpoint from what a user typed: a run folder (its latest checkpoint), a checkpoint
 * folder, or one checkpoint's `.safetensors` / `.json` file.
 */
export function findCheckpoint(target: string, warn?: (line: string) => void): CheckpointEntry {
  const abs = path.resolve(target);
  if (!existsSync(abs)) throw new AblateError('checkpoint.not-found', `'${target}' does not exist`, { where: { file: abs }, hint: 'give a run folder or a checkpoint file (checkpoints/iter-NNNNNNN.safetensors)' });
  if (statSync(abs).isDirectory()) {
    const runDir = path.basename(abs) === CHECKPOINT_DIR ? path.dirname(abs) : abs;
    const all = listCheckpoints(runDir);
    // A run folder means its newest checkpoint that is intact; a damaged one (a truncated or
    // edited sidecar, a cut-off tensor file) is passed over with a warning, never a stack trace.
    for (let i = all.length - 1; i >= 0; i--) {
      const problem = checkpointProblem(all[i]!);
      if (problem === undefined) return all[i]!;
      warn?.(`warning: skipping damaged checkpoint ${path.relative(process.cwd(), all[i]!.metaFile)}: ${problem}`);
    }
    if (all.length > 0) throw new AblateError('checkpoint.none', `run folder ${runDir} holds no intact checkpoint (${all.length} damaged)`, { where: { file: path.join(runDir, CHECKPOINT_DIR) } });
    throw new AblateError('checkpoint.none', `run folder ${runDir} holds no complete checkpoint`, { where: { file: path.join(runDir, CHECKPOINT_DIR) } });
  }
  const m = /iter-(\d+)\.(safetensors|json)$/.exec(abs);
  if (!m) throw new AblateError('checkpoint.not-found', `'${target}' is not a checkpoint file (expected iter-NNNNNNN.safetensors)`, { where: { file: abs } });
  const tensorsFile = abs.replace(/\.json$/, '.safetensors');
  const metaFile = abs.replace(/\.safetensors$/, '.json');
  if (!existsSync(metaFile) || !existsSync(tensorsFile)) throw new AblateError('checkpoint.incomplete', `checkpoint ${stem(Number(m[1]))} is incomplete (it needs both the .safetensors and the .json)`, { where: { file: abs } });
  return { iteration: Number(m[1]), tensorsFile, metaFile };
}

/** The run folder a checkpoint belongs to. */
export function runDirOf(entry: CheckpointEntry): string {
  return path.dirname(path.dirname(entry.tensorsFile));
}

/** Why a checkpoint cannot be used (a sidecar that is not ours, a tensor file cut short), or undefined. */
export function checkpointProblem(entry: CheckpointEntry): string | undefined {
  let meta: unknown;
  try {
    meta = JSON.parse(readFileSync(entry.metaFile, 'utf8'));
  } catch (e) {
    return `its sidecar is not JSON (${(e as Error).message})`;
  }
  const m = meta as Partial<CheckpointMeta> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'its sidecar is not a JSON object';
  if (m.iteration !== entry.iteration) return `its sidecar says iteration ${JSON.stringify(m.iteration)}, its name ${entry.iteration}`;
  if (typeof m.configHash !== 'string') return 'its sidecar has no configHash';
  if (m.trainerState !== undefined && (typeof m.trainerState !== 'object' || m.trainerState === null)) return 'its sidecar has a trainerState that is not an object';
  return tensorFileProblem(entry.tensorsFile);
}

/** A safetensors file must hold at least its 8-byte header length and the header it announces. */
function tensorFileProblem(file: string): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    if (size < 8 || readSync(fd, head, 0, 8, 0) < 8) return `${path.basename(file)} is ${size} bytes, shorter than a safetensors header`;
    const headerLength = Number(head.readBigUInt64LE(0));
    if (8 + headerLength > size) return `${path.basename(file)} is cut short (${size} bytes, its header alone needs ${8 + headerLength})`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The sidecar of a checkpoint, or a clean `checkpoint.corrupt` error naming the file and what is wrong. */
export function readCheckpointMeta(entry: CheckpointEntry): CheckpointMeta {
  const problem = checkpointProblem(entry);
  if (problem !== undefined) {
    throw new AblateError('checkpoint.corrupt', `checkpoint ${entry.metaFile} is damaged: ${problem}`, {
      where: { file: entry.metaFile },
      hint: `resume from the run folder (${path.relative(process.cwd(), runDirOf(entry)) || '.'}) to use its newest intact checkpoint, or name an older iter-NNNNNNN file`,
    });
  }
  return JSON.parse(readFileSync(entry.metaFile, 'utf8')) as CheckpointMeta;
}

function assignNetwork(slot: string, net: Network, tensors: ReadonlyMap<string, RawTensor>, file: string): void {
  const problems: string[] = [];
  const state = net.stateDict();
  for (const [name, v] of state) {
    const t = tensors.get(`${slot}/${name}`);
    if (!t) {
      problems.push(`missing ${slot}/${name}`);
      continue;
    }
    if (t.shape.join(',') !== v.shape.join(',')) {
      problems.push(`${slot}/${name} has shape [${t.shape.join(', ')}] in the checkpoint, the network has [${v.shape.join(', ')}]`);
      continue;
    }
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, v.dtype)));
  }
  if (problems.length > 0) {
    throw new AblateError('checkpoint.mismatch', `checkpoint ${file} does not fit the ${slot}: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; … ${problems.length - 8} more` : ''}`, {
      where: { file, key: slot },
      hint: 'the experiment must build the same networks as the run that wrote the checkpoint',
    });
  }
}

/** Loads the networks only (evaluation). */
export function restoreNetworks(entry: CheckpointEntry, parts: Pick<CheckpointParts, 'networks' | 'trainerNetworks'>): CheckpointMeta {
  const meta = readCheckpointMeta(entry);
  const { tensors } = readSafetensors(entry.tensorsFile);
  for (const [prefix, net] of networkPrefixes(parts)) assignNetwork(prefix, net, tensors, entry.tensorsFile);
  return meta;
}

/** Loads everything needed to continue training exactly where the checkpoint was written. */
export function restoreCheckpoint(entry: CheckpointEntry, parts: CheckpointParts): CheckpointMeta {
  const meta = readCheckpointMeta(entry);
  const { tensors } = readSafetensors(entry.tensorsFile);
  for (const [prefix, net] of networkPrefixes(parts)) assignNetwork(prefix, net, tensors, entry.tensorsFile);
  for (const [slot, opt] of parts.optimizers) {
    const prefix = `${slot}/`;
    const state: NamedTensorMap = {};
    for (const [name, t] of tensors) {
      if (name.startsWith(prefix)) state[name.slice(prefix.length)] = tf.tensor(t.data, t.shape, t.dtype === 'F32' ? 'float32' : t.dtype === 'U8' ? 'bool' : 'int32');
    }
    // The optimizer copies what it needs (contract: setState does not take ownership).
    opt.setState(state);
    tf.dispose(Object.values(state));
  }
  parts.trainer?.setState(meta.trainerState);
  if (parts.rng && meta.rngState !== undefined) parts.rng.setState(meta.rngState);
  return meta;
}
