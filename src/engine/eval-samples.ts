/**
 * A fixed sample of evaluation images drawn at every evaluation as image | ground truth |
 * prediction (`samples.png`), so a run's progress can be seen, not only read. Which images: the
 * `count` whose ids hash lowest under the run's seed, so every evaluation of a run (and every run
 * of one seed) shows the same ones, whatever order the data set yields them in.
 */
import type { EvalSample, SegmentationDataset } from '../plugin/contracts.js';
import { deriveSeed } from '../seeds.js';
import { labelColourTable, inputToRgb, labelsToRgb, writeSampleGrid, type LegendEntry, type SampleRow } from '../images/index.js';

/** How many images `samples.png` shows. */
export const EVAL_SAMPLE_IMAGES = 6;

interface Kept {
  key: number;
  row: SampleRow;
  labels: Set<number>;
}

export class EvalSamples {
  private kept: Kept[] = [];
  private readonly colours: Uint8Array;

  constructor(
    private readonly dataset: SegmentationDataset,
    private readonly count: number,
    private readonly seed: number,
  ) {
    this.colours = labelColourTable(dataset.classColours, dataset.numClasses, dataset.ignoreIndex);
  }

  /** Keeps the sample when it is among the `count` chosen; `predicted` and `truth` are cropped maps. */
  offer(sample: EvalSample, predicted: Int32Array, truth: Uint8Array): void {
    if (this.count <= 0) return;
    const key = deriveSeed(this.seed, sample.id);
    if (this.kept.length >= this.count && key >= this.kept[this.kept.length - 1]!.key) return;
    const labels = new Set<number>();
    for (const v of truth) labels.add(v);
    for (const v of predicted) labels.add(v);
    const row: SampleRow = {
      id: sample.id,
      height: sample.height,
      width: sample.width,
      image: inputToRgb(sample.image, sample.shape[2], sample.height, sample.width),
      truth: labelsToRgb(truth, this.colours),
      prediction: labelsToRgb(predicted, this.colours),
    };
    this.kept.push({ key, row, labels });
    this.kept.sort((a, b) => a.key - b.key);
    if (this.kept.length > this.count) this.kept.length = this.count;
  }

  get size(): number {
    return this.kept.length;
  }

  /** Draws the kept samples (in id order) with a legend of the classes they show. */
  async write(file: string, title: string): Promise<void> {
    const { numClasses, ignoreIndex, classNames } = this.dataset;
    const shown = new Set<number>();
    for (const k of this.kept) for (const v of k.labels) shown.add(v);
    const legend: LegendEntry[] = [...shown]
      .sort((a, b) => (a === ignoreIndex ? 1 : b === ignoreIndex ? -1 : a - b))
      .map((v) => ({ name: v === ignoreIndex ? 'void (not scored)' : (classNames[v] ?? (v < numClasses ? `class_${v}` : `value ${v}`)), rgb: [this.colours[3 * v]!, this.colours[3 * v + 1]!, this.colours[3 * v + 2]!] as const }));
    const rows = [...this.kept].sort((a, b) => (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0)).map((k) => k.row);
    await writeSampleGrid(file, rows, legend, title);
  }
}
