/**
 * The one place that writes an error's wire body: RFC 9457 problem details.
 * 4xx say what is wrong; anything else becomes a generic 500/503 with the request id only.
 */
import { AppError, BadRequestError, InternalError } from '../errors.js';
import type { HttpResponse } from './types.js';

export const PROBLEM_TYPE_BASE = 'urn:citadel:iam:problem:';

export function toAppError(error: unknown): AppError {
  return error instanceof AppError ? error : new InternalError(error);
}

export function problemResponse(error: AppError, requestId: string): HttpResponse {
  const body: Record<string, unknown> = {
    ...(error.expose ? error.extensions : {}),
    type: PROBLEM_TYPE_BASE + error.code,
    title: error.title,
    status: error.status,
    detail: error.expose ? error.message : genericDetail(error.status),
    request_id: requestId,
  };
  if (error instanceof BadRequestError && error.issues.length > 0) body.errors = error.issues;
  return {
    statusCode: error.status,
    headers: { ...error.headers, 'content-type': 'application/problem+json' },
    body: JSON.stringify(body),
  };
}

function genericDetail(status: number): string {
  return status === 503
    ? 'A dependency of the service is unavailable; retry shortly.'
    : 'The server failed to handle the request.';
}
