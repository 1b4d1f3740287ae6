/**
 * The one middleware stack (middy) for functions that no HTTP request reaches: the Cognito
 * trigger and the scheduled ones (outbox relay, client reconcile, IdP health probe). The same
 * observation as lib/http/stack.ts, without HTTP:
 *   - a request id (Lambda's `awsRequestId`, else a fresh UUID) and a child logger carrying it
 *     and the function's name as `handler`;
 *   - one metrics line per invocation (`http_requests_total`, `http_request_duration_seconds`,
 *     `handler` = the function's name, `status` = 2xx / the failure's class), as for a route;
 *     `database_errors_total` and `idp_adapter_errors_total` are counted where they happen;
 *   - one error-logging policy: a 5xx is `request failed` at error level with the error (the
 *     runbook's line); a 4xx is the caller's problem, logged without a stack — 401/403 at info
 *     (policy working), the others at warn with their message (a misconfigured caller). Then the
 *     failure is thrown on, so Lambda (and EventBridge's retry, or Cognito) sees it, or what
 *     `refusal` makes of it.
 */
import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { AppError, InternalError } from '../errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface EventRuntime {
  log: Logger;
  metrics: Metrics;
}

export interface EventFunctionSpec {
  /** The `handler` dimension and log field, e.g. `outbox-relay`, `cognito-pre-token-generation`. */
  name: string;
  /** Labels the metrics line like an enrich-token dialect (the Cognito trigger: `cognito`). */
  dialect?: string;
  /** The `msg` of a 4xx's log line; `request refused` unless said. */
  refusedMessage?: string;
  /**
   * What the invoker is thrown instead of the failure (Cognito shows its message to the app, so a
   * 5xx must say no more than its request id). Unset: the failure itself.
   */
  refusal?: (error: AppError, requestId: string) => Error;
}

/**
 * The Lambda context as the stack leaves it for the handler. Partial: schedules and tests invoke
 * with less than Lambda gives (`getRemainingTimeInMillis` may be absent).
 */
export type EventContext = Partial<Context> & Observed;

interface Observed {
  requestId: string;
  log: Logger;
  /** performance.now() when the invocation entered the stack. */
  startedAt: number;
  /** The outcome the metrics line reports for a success; 200 unless the handler says (Cognito's no-change: 204). */
  status?: number;
}

/** middy's view of the context: Lambda's, plus what `observe` adds. */
type StackContext = Context & Observed;

export type EventHandler<E, R> = (event: E, context: EventContext) => Promise<R>;
/** What Lambda (or a test, or local/invoke) calls; a schedule's test may pass no event (middy then passes `{}`). */
export type LambdaEventHandler<E, R> = (event?: E, context?: Partial<Context>) => Promise<R>;

export function eventFunction<E = unknown, R = unknown>(runtime: EventRuntime, spec: EventFunctionSpec, handler: EventHandler<E, R>): LambdaEventHandler<E, R> {
  const stack = middy<E, R, Error, StackContext>((event: E, context: StackContext) => handler(event, context), {
    // Lambda enforces the timeout itself; middy's early-timeout signal would cost a timer per call.
    timeoutEarlyInMillis: 0,
  }).use(observe(runtime, spec));
  return stack as unknown as LambdaEventHandler<E, R>;
}

function observe<E, R>(runtime: EventRuntime, spec: EventFunctionSpec): MiddlewareObj<E, R, Error, StackContext> {
  const { name, dialect } = spec;
  // Awaited by middy: the line is out before Lambda may freeze the process (it never rejects).
  const record = (context: Observed, status: number) =>
    runtime.metrics.http({ handler: name, dialect, status, durationSeconds: (performance.now() - context.startedAt) / 1e3, requestId: context.requestId });
  return {
    before: ({ context }) => {
      context.startedAt = performance.now();
      context.requestId = context.awsRequestId || randomUUID();
      context.log = runtime.log.child({ request_id: context.requestId, handler: name });
    },
    after: ({ context }) => record(context, context.status ?? 200),
    onError: async (request) => {
      const { context } = request;
      const failure = request.error instanceof AppError ? request.error : new InternalError(request.error);
      // A failure before `before` ran (none today) still gets a request id and a logger.
      context.requestId ??= context.awsRequestId || randomUUID();
      context.log ??= runtime.log.child({ request_id: context.requestId, handler: name });
      context.startedAt ??= performance.now();
      const fields = { status: failure.status, code: failure.code };
      if (!failure.expose) context.log.error('request failed', fields, request.error);
      else if (failure.status === 401 || failure.status === 403) context.log.info(spec.refusedMessage ?? 'request refused', fields);
      else context.log.warn(spec.refusedMessage ?? 'request refused', { ...fields, detail: failure.message });
      await record(context, failure.status);
      if (spec.refusal) request.error = spec.refusal(failure, context.requestId);
      // middy throws request.error on when onError leaves no response.
    },
  };
}
