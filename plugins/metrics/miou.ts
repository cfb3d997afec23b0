import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError, definePlugin, type Metric, type MetricResult, type SegmentationDataset } from '../../src/index.js';

type Average = 'nonzero_tp' | 'present' | 'all';

interface MiouOptions {
  num_classes: number | null;
  ignore_index: number | null;
  average: Average;
}

/**
 * A confusion matrix over class index maps, rows = ground truth, columns = prediction; pixels whose
 * ground truth is not a class index (255 void/padding) are not counted, as in the reference's
 * `ConfusionMatrix` (it counts `gt < nclass`).
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;
  constructor(readonly numClasses: number) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  add(predicted: ArrayLike<number>, truth: ArrayLike<number>, ignoreIndex: number | null): void {
    if (predicted.length !== truth.length) {
      throw new AblateError('metric.shape-mismatch', `miou: prediction has ${predicted.length} pixels but the ground truth has ${truth.length}`);
    }
    const n = this.numClasses;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i]!;
      if (t < 0 || t >= n || t === ignoreIndex) continue;
      const p = predicted[i]!;
      if (p < 0 || p >= n) throw new AblateError('metric.bad-prediction', `miou: predicted class ${p} at pixel ${i} is outside 0..${n - 1}`);
      this.counts[t * n + p]! += 1;
    }
  }

  at(truth: number, predicted: number): number {
    return this.counts[truth * this.numClasses + predicted]!;
  }

  /** Per-class IoU = TP / (row + col − TP); NaN where the class never occurs in truth or prediction. */
  iou(): number[] {
    const n = this.numClasses;
    const out: number[] = [];
    for (let c = 0; c < n; c++) {
      let row = 0;
      let col = 0;
      for (let k = 0; k < n; k++) {
        row += this.at(c, k);
        col += this.at(k, c);
      }
      const tp = this.at(c, c);
      const union = row + col - tp;
      out.push(union > 0 ? tp / union : Number.NaN);
    }
    return out;
  }

  total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }
}

/** Mean IoU under the chosen averaging rule. */
export function meanIou(cm: ConfusionMatrix, average: Average): number {
  const ious = cm.iou();
  const chosen: number[] = [];
  for (let c = 0; c < cm.numClasses; c++) {
    let inTruth = 0;
    for (let k = 0; k < cm.numClasses; k++) inTruth += cm.at(c, k);
    if (average === 'nonzero_tp' && cm.at(c, c) === 0) continue;
    if (average === 'present' && inTruth === 0) continue;
    chosen.push(Number.isNaN(ious[c]!) ? 0 : ious[c]!);
  }
  return chosen.length === 0 ? 0 : chosen.reduce((a, b) => a + b, 0) / chosen.length;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const miouMetric = definePlugin<'metric', MiouOptions>({
  kind: 'metric',
  type: 'miou',
  description: 'Mean intersection-over-union from a confusion matrix, with per-class IoU and pixel accuracy.',
  options: {
    type: 'object',
    properties: {
      num_classes: { type: ['integer', 'null'], minimum: 1, default: null, description: "Number of classes; null takes the dataset's." },
      ignore_index: { type: ['integer', 'null'], default: null, description: "Ground-truth value that is not scored; null takes the dataset's (255 for VOC). Any value outside 0..num_classes−1 is never scored." },
      average: {
        enum: ['nonzero_tp', 'present', 'all'],
        default: 'nonzero_tp',
        description:
          'Which classes the mean runs over: `nonzero_tp` = classes with at least one true positive (the reference evaluate script), `present` = classes that occur in the ground truth, `all` = every class (absent ones count 0).',
      },
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    let numClasses = options.num_classes;
    let ignoreIndex = options.ignore_index;
    let datasetNames: readonly string[] | undefined;
    if ((numClasses === null || ignoreIndex === null) && ctx.has('dataset')) {
      const dataset = await ctx.get('dataset', 'dataset') as SegmentationDataset;
      numClasses ??= dataset.numClasses;
      ignoreIndex ??= dataset.ignoreIndex;
      datasetNames = dataset.classNames;
    }
    if (numClasses === null) {
      throw new AblateError('metric.bad-options', `${ctx.slot}: miou needs \`num_classes\` when the experiment has no dataset`, { where: { key: `${ctx.slot}.num_classes` } });
    }
    const n = numClasses;
    let cm = new ConfusionMatrix(n);
    const metric: Metric = {
      reset() {
        cm = new ConfusionMatrix(n);
      },
      update(predicted, truth) {
        cm.add(predicted, truth, ignoreIndex);
      },
      compute(opts = {}): MetricResult {
        const names = opts.classNames ?? datasetNames ?? Array.from({ length: n }, (_, i) => `class_${i}`);
        const ious = cm.iou();
        const total = cm.total();
        let correct = 0;
        const recalls: number[] = [];
        for (let c = 0; c < n; c++) {
          correct += cm.at(c, c);
          let row = 0;
          for (let k = 0; k < n; k++) row += cm.at(c, k);
          if (row > 0) recalls.push(cm.at(c, c) / row);
        }
        const scalars: Record<string, number> = {
          miou: meanIou(cm, options.average),
          pixel_acc: total > 0 ? correct / total : 0,
          mean_acc: recalls.length > 0 ? recalls.reduce((a, b) => a + b, 0) / recalls.length : 0,
          pixels: total,
        };
        ious.forEach((v, c) => {
          if (!Number.isNaN(v)) scalars[`iou/${names[c] ?? `class_${c}`}`] = v;
        });
        const artifacts: string[] = [];
        if (opts.artifactDir) {
          mkdirSync(opts.artifactDir, { recursive: true });
          const header = ['truth\\predicted', ...names.slice(0, n)].map(csvCell).join(',');
          const rows = Array.from({ length: n }, (_, t) => [names[t] ?? `class_${t}`, ...Array.from({ length: n }, (_, p) => String(cm.at(t, p)))].map(csvCell).join(','));
          const cmFile = path.join(opts.artifactDir, 'confusion_matrix.csv');
          writeFileSync(cmFile, `${[header, ...rows].join('\n')}\n`);
          const iouFile = path.join(opts.artifactDir, 'per_class_iou.csv');
          writeFileSync(iouFile, `class,iou\n${ious.map((v, c) => `${csvCell(names[c] ?? `class_${c}`)},${Number.isNaN(v) ? '' : v}`).join('\n')}\n`);
          artifacts.push(cmFile, iouFile);
        }
        return { scalars, artifacts };
      },
    };
    return metric;
  },
});
