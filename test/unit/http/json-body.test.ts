import { describe, expect, it } from '@jest/globals';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../../lib/errors.js';
import { MAX_JSON_DEPTH, readJsonBody, scanJson, validate } from '../../../lib/http/json-body.js';
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

describe('readJsonBody nesting and NUL', () => {
  const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const big = 64 * 1024;

  it('accepts arrays and objects nested exactly to the limit', () => {
    expect(() => readJsonBody(event(arrays(MAX_JSON_DEPTH)), big)).not.toThrow();
    expect(() => readJsonBody(event(objects(MAX_JSON_DEPTH)), big)).not.toThrow();
  });

  it('refuses nesting one level past the limit with a 400 that says so', () => {
    for (const text of [arrays(MAX_JSON_DEPTH + 1), objects(MAX_JSON_DEPTH + 1), `{"session":${objects(MAX_JSON_DEPTH)}}`]) {
      expect(() => readJsonBody(event(text), big)).toThrow(new BadRequestError(`The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`));
    }
  });

  it('refuses nesting thousands deep, closed or not, and nesting followed by a NUL, before parsing', () => {
    for (const text of [arrays(30_000), objects(10_000), '['.repeat(60_000), `${arrays(5_000)}\u0000`, `${'['.repeat(5_000)}"\u0000"${']'.repeat(5_000)}`, `${arrays(5_000)}\0`]) {
      expect(() => readJsonBody(event(text), big)).toThrow(/deeper than 32 levels/);
    }
  });

  it('does not count brackets inside strings or after escaped quotes', () => {
    const text = JSON.stringify({ a: '['.repeat(100), b: '{"x":'.repeat(100), c: '\\"[[[[', d: '"{{{{' });
    expect(readJsonBody(event(text), big)).toEqual(JSON.parse(text));
    expect(scanJson(text, 1)).toEqual({ tooDeep: false, nul: false });
  });

  it('refuses a \\u0000 escape in a value or a key, but not an escaped backslash before u0000', () => {
    expect(() => readJsonBody(event('{"a":"x\\u0000"}'), big)).toThrow(/NUL/);
    expect(() => readJsonBody(event('{"a\\u0000":1}'), big)).toThrow(/NUL/);
    expect(() => readJsonBody(event('[[["\\u0000"]]]'), big)).toThrow(/NUL/);
    expect(readJsonBody(event('{"a":"\\\\u0000"}'), big)).toEqual({ a: '\\u0000' });
    expect(() => readJsonBody(event('{"a":"\0"}'), big)).toThrow(/not valid JSON/);
  });

  it('reads a flat body of the size limit in linear time', () => {
    const bodies = [
      JSON.stringify(Array.from({ length: 16_000 }, () => 1)),
      `{${Array.from({ length: 6_000 }, (_, i) => `"k${i}":1`).join(',')}}`,
      `{${Array.from({ length: 7_000 }, () => '"name":1').join(',')}}`,
      JSON.stringify({ s: '\\"['.repeat(10_000) }),
    ];
    const started = performance.now();
    for (const text of bodies) readJsonBody(event(text), big);
    expect(performance.now() - started).toBeLessThan(250);
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

  it('lists at most 20 issues and bounds each message, however many keys a body holds', () => {
    const many = Object.fromEntries(Array.from({ length: 6_000 }, (_, i) => [`k${i}`, i]));
    try {
      validate(schema, many);
      throw new Error('expected a BadRequestError');
    } catch (error) {
      const issues = (error as BadRequestError).issues;
      expect(issues.length).toBeLessThanOrEqual(20);
      expect(JSON.stringify(issues).length).toBeLessThan(20 * 600);
      expect((error as BadRequestError).message.length).toBeLessThanOrEqual(1000);
    }
  });
});
