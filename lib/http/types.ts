import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { Logger } from '../observability/logger.js';

/** Function URLs and HTTP API routes both deliver payload format 2.0. */
export type HttpEvent = APIGatewayProxyEventV2;

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** What a function's handler returns; the stack serializes it. */
export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The Lambda context as the stack's middlewares leave it for the handler. */
export interface HttpContext<B = unknown, C = unknown> extends Context {
  requestId: string;
  log: Logger;
  /** performance.now() when the request entered the stack. */
  startedAt: number;
  body: B;
  /** What the function's authenticate step proved about the caller. */
  caller: C;
  /** Set by a handler that speaks several gateways' languages; labels the request's metrics. */
  dialect?: string;
}
