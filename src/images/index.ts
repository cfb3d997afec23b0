export { labelColourTable, labelsToRgb, inputToRgb, writeSampleGrid, writeHeatmap, type Colours, type SampleRow, type LegendEntry } from './draw.js';
