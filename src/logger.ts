/**
 * The one logger shape of ablate: plugins get one in their BuildContext, the engine, the sweep
 * and the trackers write through one. Messages are plain lines; the caller formats them.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** Lines to stderr (stdout stays for results, e.g. `--json`); debug lines only with ABLATE_DEBUG set. */
export const stderrLogger: Logger = {
  info: (m) => process.stderr.write(`${m}\n`),
  warn: (m) => process.stderr.write(`warning: ${m}\n`),
  debug: (m) => {
    if (process.env.ABLATE_DEBUG) process.stderr.write(`${m}\n`);
  },
};
