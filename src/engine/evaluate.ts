/**
 * The whole-image evaluation protocol (docs/engine.md, "One run"): each evaluation image, already padded by the
 * dataset, goes through the model with training off (running batch-norm statistics); the argmax
 * over classes is cropped back to the original height and width and scored by every metric.
 * Scoring happens on typed arrays, so no tensor outlives an image.
 */
import { tf } from '../runtime/tf.js';
import path from 'node:path';
import type { EvalSample, Metric, MetricResult, SegmentationDataset, SegmentationModel } from '../plugin/contracts.js';
import { EvalSamples } from './eval-samples.js';

export interface EvaluationResult {
  /** Every metric's scalars; a scalar name used by two metrics is prefixed `<metric>/`. */
  scalars: Record<string, number>;
  /** Artifact files the metrics wrote. */
  artifacts: string[];
  images: number;
  seconds: number;
}

export interface EvaluateOptions {
  limit?: number | null;
  /** Where metrics write their artifacts (confusion matrix …). */
  artifactDir?: string;
  onImage?: (done: number) => void;
  signal?: AbortSignal;
  /** Draw this many evaluation images, chosen by `seed`, as `samples.png` in `artifactDir`. */
  samples?: { count: number; seed: number; title: string };
}

/** Crops an H'×W' row-major map to its top-left `height`×`width` (the padding is bottom/right). */
export function cropTopLeft<T extends Int32Array | Uint8Array>(map: T, paddedWidth: number, height: number, width: number): T {
  if (paddedWidth === width && map.length === height * width) return map;
  const out = new (map.constructor as { new (n: number): T })(height * width);
  for (let y = 0; y < height; y++) out.set(map.subarray(y * paddedWidth, y * paddedWidth + width) as ArrayLike<number>, y * width);
  return out;
}

/** The predicted class map of one evaluation sample, cropped to its original size. */
export function predictSample(model: SegmentationModel, sample: EvalSample): Int32Array {
  const [, h, w] = sample.shape;
  const argmax = tf.tidy(() => {
    const x = tf.tensor4d(sample.image, sample.shape);
    const logits = model.apply(x, { training: false });
    return tf.argMax(logits, 3);
  });
  const flat = argmax.dataSync() as Int32Array;
  argmax.dispose();
  if (flat.length !== h * w) throw new Error(`model produced ${flat.length} pixels for a ${h}×${w} input (sample ${sample.id})`);
  return cropTopLeft(Int32Array.from(flat), w, sample.height, sample.width);
}

/** The ground truth of a sample at its original size (datasets may hand it padded or not). */
export function truthOf(sample: EvalSample): Uint8Array {
  const [, h, w] = sample.shape;
  if (sample.label.length === sample.height * sample.width) return sample.label;
  if (sample.label.length === h * w) return cropTopLeft(sample.label, w, sample.height, sample.width);
  throw new Error(`evaluation sample ${sample.id}: label has ${sample.label.length} pixels, expected ${sample.height}×${sample.width}`);
}

export async function evaluate(
  model: SegmentationModel,
  dataset: SegmentationDataset,
  metrics: ReadonlyMap<string, Metric>,
  opts: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const t0 = performance.now();
  for (const m of metrics.values()) m.reset();
  let images = 0;
  const limit = opts.limit ?? undefined;
  const shown = opts.samples && opts.artifactDir ? new EvalSamples(dataset, opts.samples.count, opts.samples.seed) : undefined;
  for await (const sample of dataset.evaluation(limit === undefined ? {} : { limit })) {
    if (opts.signal?.aborted) break;
    const predicted = predictSample(model, sample);
    const truth = truthOf(sample);
    for (const m of metrics.values()) m.update(predicted, truth);
    shown?.offer(sample, predicted, truth);
    images++;
    opts.onImage?.(images);
    // Yield now and then so a Ctrl-C handler and a progress bar get a turn.
    if (images % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  const scalars: Record<string, number> = {};
  const artifacts: string[] = [];
  const results: Array<readonly [string, MetricResult]> = [];
  for (const [name, m] of metrics) results.push([name, await m.compute({ ...(opts.artifactDir ? { artifactDir: opts.artifactDir } : {}), classNames: dataset.classNames })]);
  const seen = new Map<string, number>();
  for (const [, r] of results) for (const k of Object.keys(r.scalars)) seen.set(k, (seen.get(k) ?? 0) + 1);
  for (const [name, r] of results) {
    for (const [k, v] of Object.entries(r.scalars)) scalars[(seen.get(k) ?? 0) > 1 ? `${name}/${k}` : k] = v;
    artifacts.push(...(r.artifacts ?? []));
  }
  if (shown && shown.size > 0 && opts.artifactDir && opts.samples) {
    const file = path.join(opts.artifactDir, 'samples.png');
    await shown.write(file, opts.samples.title);
    artifacts.push(file);
  }
  return { scalars, artifacts, images, seconds: (performance.now() - t0) / 1000 };
}
