/**
 * The one middleware stack every HTTP function uses (middy). In order:
 *   observe      request id, child logger, timing; on the way out: problem mapping,
 *                response headers, the EMF metrics line. Attached first, so it has the last word.
 *   authenticate the function's caller check, before the body is even read
 *   jsonBody     size limit, JSON parsing and schema validation into `context.body`
 * A function supplies only its schema, its caller check and a handler that returns a result.
 */
import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from '../schema.js';
import { type AppError, BadRequestError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { problemResponse, toAppError } from './problem.js';
import { readJsonBody, validate } from './json-body.js';
import type { HttpContext, HttpEvent, HttpResponse, HttpResult } from './types.js';

export interface HttpRuntime {
  log: Logger;
  metrics: Metrics;
}

/**
 * How a JSON body becomes `context.body`: a schema, or a function that parses it in one pass
 * (enrich-token: the schema of the dialect the body's shape names; it may label `context.dialect`).
 */
export type BodyParser = z.ZodMiniType | ((value: unknown, context: HttpContext) => unknown);

export interface HttpFunctionSpec<S extends BodyParser | undefined, C> {
  /** The route as the runbook's `handler` dimension names it, e.g. `/system/enrich-token`. */
  name: string;
  body?: S;
  maxBodyBytes?: number;
  /** How this route words a body that fails its schema (e.g. with an RFC 7591 error code). */
  invalidBody?: (error: BadRequestError) => AppError;
  /** Proves who the caller is (or throws 401/403); the result becomes `context.caller`. */
  authenticate?: (event: HttpEvent, context: HttpContext) => C | Promise<C>;
}

type Body<S> = S extends z.ZodMiniType ? z.infer<S> : S extends (value: unknown, context: HttpContext) => infer B ? B : undefined;
export type HttpHandler<B, C> = (event: HttpEvent, context: HttpContext<B, C>) => Promise<HttpResult>;

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What Lambda (or the local front) calls: a payload-2.0 event in, a response out. */
export type LambdaHttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

export function httpFunction<S extends BodyParser | undefined = undefined, C = void>(
  runtime: HttpRuntime,
  spec: HttpFunctionSpec<S, C>,
  handler: HttpHandler<Body<S>, C>,
): LambdaHttpHandler {
  const stack = middy<HttpEvent, HttpResponse, Error, HttpContext<Body<S>, C>>(
    (event: HttpEvent, context: HttpContext<Body<S>, C>) => handler(event, context).then(serialize),
    // Lambda enforces the timeout itself; middy's early-timeout signal would cost a timer per request.
    { timeoutEarlyInMillis: 0 },
  ).use(observe(runtime, spec.name));
  if (spec.authenticate) {
    const authenticate = spec.authenticate;
    stack.use({
      before: (request) => {
        const caller = authenticate(request.event, request.context);
        if (!(caller instanceof Promise)) {
          request.context.caller = caller;
          return;
        }
        return caller.then((value) => {
          request.context.caller = value;
        });
      },
    });
  }
  if (spec.body) {
    const parser: BodyParser = spec.body;
    const limit = spec.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    stack.use({
      before: (request) => {
        const value = readJsonBody(request.event, limit);
        try {
          request.context.body = (typeof parser === 'function' ? parser(value, request.context) : validate(parser, value)) as Body<S>;
        } catch (error) {
          throw spec.invalidBody && error instanceof BadRequestError ? spec.invalidBody(error) : error;
        }
      },
    });
  }
  // The middlewares add `requestId`, `log`, `startedAt`, `caller` and `body` to the plain Lambda context.
  return stack as unknown as LambdaHttpHandler;
}

function observe<B, C>(runtime: HttpRuntime, name: string): MiddlewareObj<HttpEvent, HttpResponse, Error, HttpContext<B, C>> {
  // Not `async`: it returns the metrics line's promise, which middy awaits (one promise less per request).
  const finish = (request: { context: HttpContext<B, C>; response: HttpResponse | null; error: Error | null }): Promise<void> => {
    const { context } = request;
    if (request.error) {
      const error = toAppError(request.error);
      if (!error.expose) context.log.error('request failed', { status: error.status, code: error.code }, request.error);
      request.response = problemResponse(error, context.requestId);
      request.error = null;
    }
    const response = request.response as HttpResponse;
    response.headers['x-request-id'] = context.requestId;
    // Claims and admin data are per caller: no cache may keep them.
    response.headers['cache-control'] ??= 'no-store';
    const durationSeconds = (performance.now() - context.startedAt) / 1e3;
    // Returned, so middy awaits it: the line is out before Lambda may freeze the process (it never rejects).
    return runtime.metrics.http({ handler: name, dialect: context.dialect, status: response.statusCode, durationSeconds, requestId: context.requestId });
  };
  return {
    before: (request) => {
      const { event, context } = request;
      context.startedAt = performance.now();
      const inbound = event.headers?.['x-request-id'];
      context.requestId =
        inbound && REQUEST_ID.test(inbound)
          ? inbound
          : event.requestContext?.requestId || context.awsRequestId || randomUUID();
      context.log = runtime.log.child({ request_id: context.requestId, handler: name });
    },
    after: finish,
    onError: finish,
  };
}

function serialize(result: HttpResult): HttpResponse {
  const headers: Record<string, string> = { ...result.headers };
  if (result.body === undefined) return { statusCode: result.status, headers, body: '' };
  headers['content-type'] ??= 'application/json';
  return { statusCode: result.status, headers, body: JSON.stringify(result.body) };
}
