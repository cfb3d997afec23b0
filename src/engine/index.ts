/** The run engine's public surface: train, sweep, evaluate, and the checkpoint format. */
export { runExperiment, type ResolvedExperiment, type RunOptions, type RunOutcome } from './run.js';
export { defaultRunName, newRunDir, readRunMeta } from './run-dir.js';
export { runSweep, summaryTable, type SweepCellInput, type SweepOptions, type SweepOutcome, type SweepCellResult } from './sweep.js';
export { evaluate, predictSample, cropTopLeft, type EvaluationResult, type EvaluateOptions } from './evaluate.js';
export { evaluateCheckpoint, type EvalOptions, type EvalOutcome } from './eval-run.js';
export { saveCheckpoint, restoreCheckpoint, restoreNetworks, listCheckpoints, findCheckpoint, runDirOf, CHECKPOINT_DIR, type CheckpointEntry, type CheckpointMeta, type CheckpointParts } from './checkpoint.js';
export { readSafetensors, writeSafetensors, type StTensor } from './safetensors.js';
export { engineBlocksSchema, engineSettings, type EngineSettings } from './schema.js';
