import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError, definePlugin, images, type Metric, type MetricResult, type SegmentationDataset } from '../../src/index.js';

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

/** Each row divided by its sum (the share of a true class's pixels given each prediction); NaN for a class never in the truth. */
export function rowNormalised(cm: ConfusionMatrix): number[][] {
  const n = cm.numClasses;
  return Array.from({ length: n }, (_, t) => {
    let row = 0;
    for (let p = 0; p < n; p++) row += cm.at(t, p);
    return Array.from({ length: n }, (_, p) => (row > 0 ? cm.at(t, p) / row : Number.NaN));
  });
}

/** Per-class IoU as `per_class_iou.md` (a table to read, worst first) and `per_class_iou.json`. */
function writeIouTables(dir: string, cm: ConfusionMatrix, names: readonly string[], miou: number): string[] {
  const ious = cm.iou();
  const rows = ious.map((iou, c) => {
    let truth = 0;
    let predicted = 0;
    for (let k = 0; k < cm.numClasses; k++) {
      truth += cm.at(c, k);
      predicted += cm.at(k, c);
    }
    return { class: names[c] ?? `class_${c}`, iou: Number.isNaN(iou) ? null : iou, true_pixels: truth, predicted_pixels: predicted };
  });
  const pct = (v: number | null) => (v === null ? '–' : (v * 100).toFixed(2));
  const sorted = [...rows].sort((a, b) => (a.iou ?? Infinity) - (b.iou ?? Infinity));
  const md = [
    `mIoU ${pct(miou)} % over ${cm.total()} pixels; classes worst first (– = absent from truth and prediction)`,
    '',
    '| class | IoU % | true pixels | predicted pixels |',
    '|---|---:|---:|---:|',
    ...sorted.map((r) => `| ${r.class.replace(/\|/g, '\\|')} | ${pct(r.iou)} | ${r.true_pixels} | ${r.predicted_pixels} |`),
    '',
  ].join('\n');
  const mdFile = path.join(dir, 'per_class_iou.md');
  const jsonFile = path.join(dir, 'per_class_iou.json');
  writeFileSync(mdFile, md);
  writeFileSync(jsonFile, `${JSON.stringify({ miou, pixels: cm.total(), classes: rows }, null, 2)}\n`);
  return [mdFile, jsonFile];
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
      async compute(opts = {}): Promise<MetricResult> {
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
          artifacts.push(cmFile, iouFile, ...writeIouTables(opts.artifactDir, cm, names, scalars.miou!));
          const heatmap = path.join(opts.artifactDir, 'confusion_matrix.png');
          await images.writeHeatmap(heatmap, rowNormalised(cm), names.slice(0, n), names.slice(0, n), { title: `confusion matrix, % of each true class (${total} pixels)`, rowAxis: 'true class', colAxis: 'predicted class' });
          artifacts.push(heatmap);
        }
        return { scalars, artifacts };
      },
    };
    return metric;
  },
});
