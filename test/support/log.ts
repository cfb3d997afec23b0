/** Loggers for tests: one that drops everything, one that keeps what it was told. */
import type { Logger } from '../../src/index.js';

/** Drops every message (a test that checks output uses `recordingLog`). */
export const quietLog: Logger = { info() {}, warn() {}, debug() {} };

/** For APIs that take a line callback (backend selection, the CLI's `out`). */
export const quietLine = (_line: string): void => {};

export interface RecordingLog extends Logger {
  infos: string[];
  warnings: string[];
}

/** Keeps every info and warning, in order, for assertions. */
export function recordingLog(): RecordingLog {
  const infos: string[] = [];
  const warnings: string[] = [];
  return { info: (m) => void infos.push(m), warn: (m) => void warnings.push(m), debug: () => undefined, infos, warnings };
}
