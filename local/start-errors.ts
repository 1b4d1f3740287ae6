/**
 * What `npm start` says when it cannot start: one line that names the cause and what to change.
 * Errors raised here carry that line as their message; anything else (a library's error, an
 * AggregateError, a rejection without a reason) is reduced to one line by `oneLine`.
 */

/** A failure whose message is meant for the person who ran `npm start`, as is. */
export class LocalStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalStartError';
  }
}

/** A port npm start needs is taken; `variable` is the environment variable that moves it. */
export class PortInUseError extends LocalStartError {
  constructor(
    readonly port: number,
    readonly variable: string,
    what: string,
  ) {
    super(`port ${port} (${what}) is already in use: stop what listens there, or set ${variable} to a free port`);
    this.name = 'PortInUseError';
  }
}

/** The error's own words on one line: never "undefined", never an empty AggregateError. */
export function oneLine(error: unknown): string {
  return flatten(describe(error, 0));
}

function describe(error: unknown, depth: number): string {
  if (error === undefined || error === null) return 'failed without giving a reason';
  if (!(error instanceof Error)) return String(error);
  // Node's net and fetch raise an AggregateError without a message when every address fails.
  if (error instanceof AggregateError && error.errors.length > 0) {
    const parts = [...new Set(error.errors.map((inner) => describe(inner, depth + 1)))];
    return error.message ? `${error.message}: ${parts.join('; ')}` : parts.join('; ');
  }
  const code = (error as { code?: unknown }).code;
  const own = error.message || (typeof code === 'string' ? code : error.name);
  // `fetch failed` and similar wrappers say nothing: the cause does.
  if (error.cause !== undefined && depth < 3 && !(error instanceof LocalStartError)) {
    const cause = describe(error.cause, depth + 1);
    if (!own.includes(cause)) return `${own}: ${cause}`;
  }
  return own;
}

const flatten = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();
