/**
 * `ablate report`'s core: a table (rows × columns, mean ± std over replicates) from any list of
 * runs, laid out by the sweep's own axes, as Markdown and as an SVG/PNG plot.
 */
export { type ReportRun, type Aggregate, type StepWindow, AGGREGATES, aggregateSeries, describeAggregate, parseStepWindow, fromRecord, runsFromFolder, foldResumes } from './runs.js';
export { type ReportAxis, type Layout, type LayoutRequest, resolveLayout, sweepAxesOf } from './axes.js';
export { type ReportSpec, type ReportTable, type ReportCell, type Dimension, DEFAULT_SPEC, LEVEL_SEPARATOR, buildTable, cellAt, headlineOf, meanStd } from './table.js';
export { asReciprocal, deltaText, intervalName, levelLabels, toCsv, toLatex, toMarkdown, type MarkdownOptions } from './format.js';
export { bootstrapInterval, incompleteBeta, pairedDelta, studentTCdf, studentTQuantile, tInterval, type IntervalMethod, type PairedDelta } from './stats.js';
export { niceTicks, toPng, toSvg } from './plot.js';
export { writeReport, type WrittenReport } from './write.js';
