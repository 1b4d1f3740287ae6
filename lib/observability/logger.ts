/**
 * Structured JSON logs, one line per entry. Callers pass explicit fields; nothing here
 * serializes a request, its headers or its body, so tokens and secrets cannot slip in.
 * Errors are reduced to name, code, message and stack (pg's `detail` can quote values).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields, error?: unknown): void;
  error(msg: string, fields?: LogFields, error?: unknown): void;
  child(fields: LogFields): Logger;
}

export function createLogger(
  level: LogLevel = 'info',
  base: LogFields = {},
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Logger {
  return new JsonLogger(rank[level], base, write);
}

/** The fields of a logger that has none of its own (a root): its children share its `base`. */
const NONE: LogFields = {};

/** A class, not closures: every request makes a child logger, so making one must be cheap. */
class JsonLogger implements Logger {
  constructor(
    private readonly threshold: number,
    private readonly base: LogFields,
    private readonly write: (line: string) => void,
    /** A child's own fields, merged only when a line is written (most requests write none). */
    private readonly own: LogFields = NONE,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields, error?: unknown): void {
    this.emit('warn', msg, fields, error);
  }
  error(msg: string, fields?: LogFields, error?: unknown): void {
    this.emit('error', msg, fields, error);
  }
  child(fields: LogFields): Logger {
    // A root's child (one per request) shares the root's fields instead of copying them.
    return new JsonLogger(this.threshold, this.own === NONE ? this.base : { ...this.base, ...this.own }, this.write, fields);
  }

  private emit(at: LogLevel, msg: string, fields?: LogFields, error?: unknown): void {
    if (rank[at] < this.threshold) return;
    this.write(JSON.stringify({ level: at, time: new Date().toISOString(), msg, ...this.base, ...this.own, ...fields, ...describe(error) }));
  }
}

function describe(error: unknown): Record<string, unknown> {
  if (error === undefined) return {};
  if (!(error instanceof Error)) return { error: { message: String(error) } };
  const { name, message, stack } = error;
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? describe(error.cause).error : undefined;
  return { error: { name, message, code: typeof code === 'string' ? code : undefined, stack, cause } };
}
