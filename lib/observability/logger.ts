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
  const emit = (at: LogLevel, msg: string, fields?: LogFields, error?: unknown) => {
    if (rank[at] < rank[level]) return;
    const entry = { level: at, time: new Date().toISOString(), msg, ...base, ...fields, ...describe(error) };
    write(JSON.stringify(entry));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields, error) => emit('warn', msg, fields, error),
    error: (msg, fields, error) => emit('error', msg, fields, error),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

function describe(error: unknown): Record<string, unknown> {
  if (error === undefined) return {};
  if (!(error instanceof Error)) return { error: { message: String(error) } };
  const { name, message, stack } = error;
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? describe(error.cause).error : undefined;
  return { error: { name, message, code: typeof code === 'string' ? code : undefined, stack, cause } };
}
