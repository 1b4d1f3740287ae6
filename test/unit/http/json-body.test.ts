import { describe, expect, it } from '@jest/globals';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../../lib/errors.js';
import { readJsonBody, validate } from '../../../lib/http/json-body.js';
import * as z from '../../../lib/schema.js';
import { buildHttpEvent } from '../../../local/http-front.js';

const event = (body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  buildHttpEvent({ method: 'POST', url: new URL('http://localhost/x'), headers, body });

describe('readJsonBody', () => {
  it('parses a JSON object', () => {
    expect(readJsonBody(event('{"a":1}'), 100)).toEqual({ a: 1 });
  });

  it('accepts a +json media type with parameters', () => {
    expect(readJsonBody(event('[]', { 'content-type': 'application/merge-patch+json; charset=utf-8' }), 100)).toEqual([]);
  });

  it('measures the limit in bytes, not characters', () => {
    expect(() => readJsonBody(event(JSON.stringify({ a: 'é'.repeat(40) })), 60)).toThrow(PayloadTooLargeError);
  });

  it('decodes a base64-encoded body', () => {
    const encoded = { ...event(Buffer.from('{"b":2}').toString('base64')), isBase64Encoded: true };
    expect(readJsonBody(encoded, 100)).toEqual({ b: 2 });
  });

  it('refuses a non-JSON media type with 415', () => {
    expect(() => readJsonBody(event('a=1', { 'content-type': 'application/x-www-form-urlencoded' }), 100)).toThrow(
      UnsupportedMediaTypeError,
    );
  });

  it('refuses an empty body and malformed JSON with 400', () => {
    expect(() => readJsonBody(event(undefined), 100)).toThrow(BadRequestError);
    expect(() => readJsonBody(event('{"a":'), 100)).toThrow(/not valid JSON/);
  });
});

describe('validate', () => {
  const schema = z.strictObject({ name: z.string(), size: z.optional(z.number()) });

  it('names every wrong field', () => {
    try {
      validate(schema, { name: 7, size: 'big', extra: true });
      throw new Error('expected a BadRequestError');
    } catch (error) {
      expect(error).toBeInstanceOf(BadRequestError);
      const issues = (error as BadRequestError).issues;
      expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['name', 'size', '(root)']));
      expect(issues.find((i) => i.path === '(root)')?.message).toMatch(/extra/);
    }
  });

  it('refuses a body that is not an object', () => {
    expect(() => validate(schema, ['name'])).toThrow(/expected object/);
  });
});
