/**
 * The config language's public API (stable; the engine, tracking and CLI build on it).
 *
 *   loadExperiment(file, {set?, registry?, env?})  → ResolvedExperiment
 *       {file, baseDir, config, hash, canonicalYaml, provenance, files, registry, sweep?}
 *       `config` is canonical (sorted keys, schema and slot defaults applied, no extends/sweep);
 *       `hash` = sha256 of its canonical JSON = the run identity. A sweep file gives its base.
 *   expandSweep(file, {set?, registry?, env?})     → {name, labels, diff, experiment}[]
 *       every cell resolved and validated before returning; all errors of all cells thrown at once.
 *   loadCell(file, cellName | undefined, opts)     → one cell's ResolvedExperiment (or the base)
 *   checkFile(file, opts)                          → what `ablate validate` does for one file
 *   flattenParams(config)                          → {dotted.key: string}: the run's params
 *   flattenValues(config)                          → {dotted.key: value} (typed)
 *   diffConfigs(a, b)                              → {changed: {key,a,b}[], added, removed}
 *
 * Errors are AblateError / AblateErrors (code, where {file,line,column,key}, hint); ConfigError
 * adds `notes`. The syntax is documented in docs/config-language.md.
 */
export { loadExperiment, expandSweep, sweepAxes, loadCell, checkFile, isFragmentFile, type LoadOptions, type ResolvedExperiment, type RunnableExperiment, type SweepCell, type FileCheck } from './load.js';
export { flattenParams, flattenValues, diffConfigs, canonicalize, sortKeysDeep, type ConfigDiff } from './canonical.js';
export { ConfigError, codeFrame } from './errors.js';
export { describeOrigin, type Origin, type Provenance } from './origin.js';
export { parseSet } from './overrides.js';
