/**
 * The one error type for user mistakes (bad YAML, unknown plugin, missing data file, unreachable
 * server). The CLI prints these as located messages without a stack trace and exits with `exitCode`;
 * anything else that escapes is a bug in ablate and is printed with its stack.
 */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted key path into the experiment, e.g. `model.depth`. */
  key?: string;
}

export class AblateError extends Error {
  override readonly name = 'AblateError';
  /** Stable machine-readable code, e.g. `config.unknown-key`, `data.missing-file`. */
  readonly code: string;
  readonly where: SourceLocation | undefined;
  /** What to do about it ("did you mean …", "run npm run setup:tensorflow"). */
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(
    code: string,
    message: string,
    opts: { where?: SourceLocation; hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.where = opts.where;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 2;
  }
}

/** Several located errors reported at once (e.g. every validation error of a file). */
export class AblateErrors extends AblateError {
  readonly errors: readonly AblateError[];
  constructor(errors: readonly AblateError[], summary?: string) {
    super(errors[0]?.code ?? 'multiple', summary ?? `${errors.length} error(s)`, { exitCode: 2 });
    this.errors = errors;
  }
}
