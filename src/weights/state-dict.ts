/**
 * Loading PyTorch-named weights into a Network (`stateDict()`), and saving a Network in PyTorch's
 * names and layouts. Like the reference's loader, a tensor is copied only when its name and shape
 * both match; everything else is reported by name so a wrong file or a wrong `depth` is obvious.
 */
import { tf } from '../runtime/tf.js';
import type { Variable } from '../runtime/tf.js';
import { AblateError } from '../errors.js';
import { readSafetensors, writeSafetensors, type RawTensor, type TensorToWrite } from './safetensors.js';
import { tfjsShapeOf, tfjsToTorch, torchToTfjs } from './layout.js';

export interface LoadOptions {
  /** Removed from the start of every source name (e.g. `Scale.` in a Caffe-converted file). */
  stripPrefix?: string;
  /** Source names matching this are skipped silently (default: PyTorch's `num_batches_tracked`). */
  ignore?: RegExp;
}

export interface ShapeMismatch {
  name: string;
  /** Expected shape, in PyTorch layout (what the file should hold). */
  expected: number[];
  got: number[];
}

export interface LoadReport {
  loaded: string[];
  /** In the network, absent from the file: these keep their initial values. */
  missing: string[];
  /** In the file, absent from the network. */
  unexpected: string[];
  mismatched: ShapeMismatch[];
  ignored: string[];
}

const DEFAULT_IGNORE = /(^|\.)num_batches_tracked$/;

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Copies matching tensors into the variables (in place) and reports the rest. */
export function loadStateDict(target: ReadonlyMap<string, Variable>, source: ReadonlyMap<string, RawTensor>, opts: LoadOptions = {}): LoadReport {
  const ignore = opts.ignore ?? DEFAULT_IGNORE;
  const report: LoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [], ignored: [] };
  const seen = new Set<string>();
  for (const [rawName, t] of source) {
    if (ignore.test(rawName)) {
      report.ignored.push(rawName);
      continue;
    }
    const name = opts.stripPrefix && rawName.startsWith(opts.stripPrefix) ? rawName.slice(opts.stripPrefix.length) : rawName;
    const v = target.get(name);
    if (!v) {
      report.unexpected.push(rawName);
      continue;
    }
    seen.add(name);
    if (!sameShape(tfjsShapeOf(t.shape), v.shape)) {
      report.mismatched.push({ name, expected: tfjsToTorchShape(v.shape), got: [...t.shape] });
      continue;
    }
    const converted = torchToTfjs(t);
    const data = converted.data instanceof Float32Array ? converted.data : Float32Array.from(converted.data);
    const value = tf.tensor(data, v.shape, 'float32');
    v.assign(value);
    value.dispose();
    report.loaded.push(name);
  }
  for (const name of target.keys()) if (!seen.has(name)) report.missing.push(name);
  return report;
}

function tfjsToTorchShape(shape: readonly number[]): number[] {
  return shape.length === 4 ? [shape[3]!, shape[2]!, shape[0]!, shape[1]!] : [...shape];
}

/** Reads a safetensors file into the network's variables. */
export function loadSafetensorsInto(target: ReadonlyMap<string, Variable>, file: string, opts: LoadOptions = {}): LoadReport {
  return loadStateDict(target, readSafetensors(file).tensors, opts);
}

/** A multi-line human summary; lists up to `limit` names per category. */
export function formatLoadReport(report: LoadReport, file: string, limit = 20): string {
  const list = (names: string[]) => names.slice(0, limit).join(', ') + (names.length > limit ? `, … (${names.length - limit} more)` : '');
  const lines = [`${file}: loaded ${report.loaded.length} tensors`];
  if (report.missing.length) lines.push(`  missing (kept initial values): ${list(report.missing)}`);
  if (report.unexpected.length) lines.push(`  unexpected (not in the model): ${list(report.unexpected)}`);
  if (report.mismatched.length) {
    lines.push(`  shape mismatch (skipped): ${report.mismatched.slice(0, limit).map((m) => `${m.name} file [${m.got.join(', ')}] vs model [${m.expected.join(', ')}]`).join('; ')}`);
  }
  if (report.ignored.length) lines.push(`  ignored: ${report.ignored.length} (${report.ignored[0]}, …)`);
  return lines.join('\n');
}

/** Throws a located error when nothing matched (almost certainly the wrong file or model). */
export function assertSomethingLoaded(report: LoadReport, file: string, key: string): void {
  if (report.loaded.length > 0) return;
  throw new AblateError('weights.nothing-loaded', `no tensor of ${file} matches the model (${report.unexpected.length} unexpected, ${report.mismatched.length} shape mismatches)`, {
    where: { file, key },
    hint: report.unexpected.length ? `first names in the file: ${report.unexpected.slice(0, 3).join(', ')}; a prefix to strip?` : 'check depth, width and num_classes',
  });
}

/** The network's tensors in PyTorch names and layouts (synchronous read of every variable). */
export function exportStateDict(source: ReadonlyMap<string, Variable>): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  for (const [name, v] of source) out.set(name, tfjsToTorch({ shape: v.shape, data: v.dataSync() as Float32Array }));
  return out;
}

export function saveSafetensors(file: string, source: ReadonlyMap<string, Variable>, metadata: Record<string, string> = {}): void {
  writeSafetensors(file, exportStateDict(source), metadata);
}
