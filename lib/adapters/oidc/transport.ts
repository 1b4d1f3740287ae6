/**
 * The one way this service talks HTTP to the IdP. Every call goes through `fetch` below:
 * openid-client's discovery, registration and token grant (its `customFetch`), jose's JWKS
 * fetch (its `customFetch`), and the RFC 7592 and admin-API calls of the adapters (`exchange`).
 * - one deadline (`timeoutMs`) over headers and body, combined with the caller's own signal;
 * - a byte cap (`maxResponseBytes`) on the body, cancelling the stream as soon as it is passed;
 * - no redirects (a bearer token must not follow one).
 * The body is read here, so a caller gets a complete, already bounded Response.
 *
 * Failures are counted once per operation, at the operation's boundary (`guarded`): IdP trouble
 * becomes a counted, logged IdpUnavailableError (`idp_adapter_errors_total{operation}`), while
 * caller-facing errors pass. Logs carry the operation and status, never tokens or bodies.
 */
import { IdpUnavailableError } from '../../admin/idp-admin.js';
import { LOOPBACK_HOSTS } from '../../config.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';

/** The `operation` dimension of `idp_adapter_errors_total`. */
export type IdpOperation = 'create' | 'read' | 'update' | 'rotate' | 'delete' | 'list' | 'discovery' | 'jwks' | 'token';

export interface TransportOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  /** The network underneath (tests inject one); default: the global fetch. */
  fetch?: typeof fetch | undefined;
  metrics: Pick<Metrics, 'idpError'>;
  /** Where a counted failure is logged; without one, failures are only counted. */
  log?: Logger | undefined;
}

export interface IdpAnswer {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

export interface IdpRequest {
  method: string;
  /** Sent as `Authorization: Bearer`. */
  token?: string | undefined;
  /** Sent as JSON. */
  body?: unknown;
}

/** IdP trouble inside an operation (timeout, oversize, 5xx, nonsense); `guarded` counts it. */
export class Trouble extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ResponseTooLargeError extends Error {
  constructor(limit: number) {
    super(`response body exceeds ${limit} bytes`);
  }
}

export interface IdpTransport {
  /** fetch-compatible, for openid-client's and jose's `customFetch`: bounded, body already read. */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** One JSON exchange with the IdP. */
  exchange(url: URL, request: IdpRequest): Promise<IdpAnswer>;
  /** Turns IdP trouble into a counted, logged IdpUnavailableError; lets caller-facing errors through. */
  counted(operation: IdpOperation, error: unknown): Error;
  /** Runs `run`, passing what it throws through `counted`. */
  guarded<T>(operation: IdpOperation, run: () => Promise<T>): Promise<T>;
}

export function idpTransport(options: TransportOptions): IdpTransport {
  const network = options.fetch ?? fetch;

  async function bounded(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([deadline, init.signal]) : deadline;
    try {
      const response = await network(url, { ...init, signal, redirect: 'error' });
      const bytes = await readCapped(response, options.maxResponseBytes);
      const empty = response.status === 204 || response.status === 205 || response.status === 304;
      return new Response(empty ? null : new Uint8Array(bytes), { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (cause) {
      throw new Trouble(deadline.aborted ? 'timed out' : cause instanceof Error ? cause.message : 'request failed', undefined, { cause });
    }
  }

  function counted(operation: IdpOperation, error: unknown): Error {
    // Caller mistakes, errors already counted (discovery inside create), and trouble that is not the
    // IdP's (a secret that cannot be read) pass through: only IdP trouble counts as an IdP error.
    if (error instanceof AppError) return error;
    options.metrics.idpError(operation);
    const status = error instanceof Trouble ? error.status : (error as { status?: unknown } | undefined)?.status;
    // The runbook greps for this message ("failed to update client in upstream IdP"); `operation`
    // tells a client operation from discovery, jwks or the token grant.
    options.log?.warn(`failed to ${operation} client in upstream IdP`, { operation, status: typeof status === 'number' ? status : undefined }, error);
    return new IdpUnavailableError(operation, error);
  }

  return {
    fetch: bounded,
    counted,

    async exchange(url, request) {
      const response = await bounded(url, {
        method: request.method,
        headers: {
          accept: 'application/json',
          ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }),
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
      return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
    },

    async guarded(operation, run) {
      try {
        return await run();
      } catch (error) {
        throw counted(operation, error);
      }
    },
  };
}

/** The body as bytes; cancels the stream (and so the connection) as soon as it passes `maxBytes`. */
export async function readCapped(response: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(maxBytes);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** JSON object or undefined (empty, not JSON, or not an object). */
export function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  if (bytes.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** openid-client refuses http:// unless told; only a loopback issuer (the dev IdP) may be. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname);
}
