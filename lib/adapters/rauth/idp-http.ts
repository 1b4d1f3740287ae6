/**
 * What every call from this service to the IdP's management APIs shares (registration-client.ts,
 * inventory-client.ts): one HTTP exchange with a deadline over headers and body, a byte cap on
 * the body and no redirects (a bearer token must not follow one); a single re-read of the
 * credentials after a 401; and one place that turns IdP trouble into a counted, logged
 * IdpUnavailableError. Logs carry the operation and status, never tokens or bodies.
 */
import { IdpUnavailableError } from '../../admin/idp-admin.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { readCapped } from './bounded-response.js';

/** The `operation` dimension of `idp_adapter_errors_total` for the IdP adapters. */
export type IdpOperation = 'create' | 'read' | 'update' | 'rotate' | 'delete' | 'discovery' | 'list';

export interface IdpHttpOptions {
  /** Read again (from Secrets Manager) after the IdP answers 401. */
  /** `fresh`: read again (from Secrets Manager) because the IdP refused the last one. */
  credentials: (options?: { fresh?: boolean }) => Promise<{ initialAccessToken: string }>;
  timeoutMs: number;
  maxResponseBytes: number;
  fetch?: typeof fetch | undefined;
  metrics: Pick<Metrics, 'idpError'>;
  log: Logger;
}

export interface IdpAnswer {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

export interface IdpRequest {
  method: string;
  token: string;
  body?: unknown;
}

/** Thrown inside the adapters for IdP trouble; turned into a counted IdpUnavailableError by `counted`. */
export class Trouble extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface IdpHttp {
  /** One HTTP exchange: deadline over headers and body, capped body, no redirects. */
  exchange(url: URL, request: IdpRequest): Promise<IdpAnswer>;
  /** An exchange authorized by the initial access token, read again and retried once after a 401. */
  withCredentials(operation: IdpOperation, url: URL, request: Omit<IdpRequest, 'token'>): Promise<IdpAnswer>;
  /** Turns IdP trouble into a counted, logged IdpUnavailableError; lets caller-facing errors through. */
  counted(operation: IdpOperation, error: unknown): Error;
  /** Runs `run`, passing what it throws through `counted`. */
  guarded<T>(operation: IdpOperation, run: () => Promise<T>): Promise<T>;
}

export function idpHttp(options: IdpHttpOptions): IdpHttp {
  const doFetch = options.fetch ?? fetch;

  async function exchange(url: URL, request: IdpRequest): Promise<IdpAnswer> {
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await doFetch(url, {
        method: request.method,
        redirect: 'error',
        signal,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${request.token}`,
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
      const bytes = await readCapped(response, options.maxResponseBytes);
      return { status: response.status, headers: response.headers, bytes };
    } catch (cause) {
      throw new Trouble(signal.aborted ? 'timed out' : cause instanceof Error ? cause.message : 'request failed', undefined, { cause });
    }
  }

  function counted(operation: IdpOperation, error: unknown): Error {
    // Caller mistakes, errors already counted (discovery inside create), and trouble that is not the
    // IdP's (a secret that cannot be read) pass through: only IdP trouble counts as an IdP error.
    if (error instanceof AppError) return error;
    options.metrics.idpError(operation);
    // The runbook greps for this message ("failed to update client in upstream IdP").
    options.log.warn(`failed to ${operation} client in upstream IdP`, { operation, status: error instanceof Trouble ? error.status : undefined }, error);
    return new IdpUnavailableError(operation, error);
  }

  return {
    exchange,
    counted,

    async withCredentials(operation, url, request) {
      const attempt = async (fresh: boolean) => exchange(url, { ...request, token: (await options.credentials({ fresh })).initialAccessToken });
      let answer = await attempt(false);
      if (answer.status === 401) {
        options.log.info('IdP refused the initial access token; reading it again', { operation });
        answer = await attempt(true);
        if (answer.status === 401) throw new Trouble('IdP refused the initial access token', 401);
      }
      return answer;
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
