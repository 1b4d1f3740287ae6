/**
 * Reads a JSON body: a size limit and a nesting limit checked before parsing, a JSON media
 * type, and a schema that rejects unknown fields. Each failure is a 4xx that says what is wrong.
 */
import * as z from '../schema.js';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import type { HttpEvent } from './types.js';

const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;.*)?$/i;

/**
 * How deep arrays and objects may nest in a request body. No request of this API nests deeper
 * than 5 (Hydra's session); 32 leaves room for what gateways add. Without a bound, a 64 KiB body
 * nests ~30,000 levels and everything recursive after JSON.parse (JSON.stringify of an echoed
 * session or an idempotency record, a walk of the value) overflows the stack: a 500.
 */
export const MAX_JSON_DEPTH = 32;

/** Issues listed in a 400's `errors` (the answer to a bad body stays smaller than the body). */
const MAX_ISSUES = 20;

export function readJsonBody(event: HttpEvent, maxBytes: number): unknown {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only a body near the limit is measured exactly.
  if (text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const contentType = event.headers?.['content-type'];
  if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType)) {
    throw new UnsupportedMediaTypeError(`Content-Type must be application/json, not "${contentType.slice(0, 100)}".`);
  }
  if (text.length === 0) throw new BadRequestError('The request body is empty; a JSON object is required.');
  const { tooDeep, nul } = scanJson(text, MAX_JSON_DEPTH);
  if (tooDeep) throw new BadRequestError(`The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  // PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database.
  if (nul) throw new BadRequestError('The request body contains a NUL (\\u0000) character, which no field accepts.');
  return value;
}

/**
 * One linear pass over the text, before anything recursive runs: is any `[`/`{` nested deeper
 * than `maxDepth`, and does a string (key or value) hold the escape `\u0000`? Brackets inside
 * strings and escaped characters (`\"`, `\\`) are skipped. A raw NUL needs no search: JSON
 * allows none outside an escape, so JSON.parse refuses it. On text that is not JSON the answer
 * may be off, but JSON.parse then refuses the text anyway: every outcome is a 400.
 */
export function scanJson(text: string, maxDepth: number): { tooDeep: boolean; nul: boolean } {
  // The usual body has no `\u0000` anywhere and fewer brackets than the limit, the depth's upper
  // bound: two native searches say so, without walking the text character by character.
  if (!text.includes('\\u0000') && !hasMoreThan(text, maxDepth)) return CLEAN;
  let depth = 0;
  let nul = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) {
        if (text.charCodeAt(i + 1) === 0x75 /* u */ && text.startsWith('0000', i + 2)) nul = true;
        i++; // the escaped character (for \uXXXX, the hex digits are plain characters after it)
      } else if (c === 0x22 /* " */) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return { tooDeep: true, nul };
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return { tooDeep: false, nul };
}

const CLEAN = Object.freeze({ tooDeep: false, nul: false });

/** Whether `text` holds more than `limit` opening brackets (`[` and `{`), inside strings or not. */
function hasMoreThan(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{'); at >= 0; at = text.indexOf('{', at + 1)) if (++count > limit) return true;
  for (let at = text.indexOf('['); at >= 0; at = text.indexOf('[', at + 1)) if (++count > limit) return true;
  return false;
}

export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  // Bounded like the detail: a body of thousands of unknown keys is one issue naming them all.
  const issues = result.error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: (issue.path.map(String).join('.') || '(root)').slice(0, 200),
    message: issue.message.slice(0, 300),
  }));
  throw new BadRequestError(
    `The ${what} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`.slice(0, 1000),
    issues,
  );
}
