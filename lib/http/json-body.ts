/**
 * Reads a JSON body: a size limit checked before parsing, a JSON media type, and a schema
 * that rejects unknown fields. Each failure is a 4xx that says what is wrong.
 */
import * as z from '../schema.js';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import type { HttpEvent } from './types.js';

const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;.*)?$/i;

export function readJsonBody(event: HttpEvent, maxBytes: number): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const contentType = event.headers?.['content-type'];
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) {
    throw new UnsupportedMediaTypeError(`Content-Type must be application/json, not "${contentType.slice(0, 100)}".`);
  }
  if (text.length === 0) throw new BadRequestError('The request body is empty; a JSON object is required.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  // PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database. The
  // scan runs only when the raw body could contain one.
  if ((text.includes('\\u0000') || text.includes('\0')) && containsNul(value)) {
    throw new BadRequestError('The request body contains a NUL (\\u0000) character, which no field accepts.');
  }
  return value;
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\0') || containsNul(v));
  return false;
}

export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  throw new BadRequestError(
    `The ${what} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`.slice(0, 1000),
    issues,
  );
}
