/**
 * Signing as a gateway does (AWS's own `@smithy/signature-v4`), and the ways an attacker can
 * change a signed request: the tests of the local Function URL share them.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A request on the wire: raw (percent-encoded) path and query, lower-case header names. */
export interface WireRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface SignOptions {
  region?: string;
  service?: string;
  date?: Date;
  /** Add x-amz-content-sha256 (what the SDK does); curl and others leave it out. */
  contentHash?: boolean;
}

/** Signs `request` (whose headers must include `host`) and returns it with the SigV4 headers. */
export async function sign(request: WireRequest, credentials: Credentials, options: SignOptions = {}): Promise<WireRequest> {
  const signer = new SignatureV4({
    credentials,
    region: options.region ?? 'eu-west-1',
    service: options.service ?? 'lambda',
    sha256: Sha256,
    applyChecksum: options.contentHash ?? true,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: request.headers.host!.split(':')[0]!,
      path: request.rawPath,
      query: decodeQuery(request.rawQuery),
      headers: { ...request.headers },
      body: request.body,
    },
    { signingDate: options.date ?? new Date() },
  );
  return { ...request, headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)])) };
}

export function decodeQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (!raw) return query;
  for (const pair of raw.split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    const prior = query[key];
    query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  return query;
}

/** Sends exactly this request (no header or path rewriting) and collects the answer. */
export function send(url: string, request: WireRequest): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname,
        port,
        method: request.method,
        path: request.rawQuery ? `${request.rawPath}?${request.rawQuery}` : request.rawPath,
        headers: { ...request.headers, 'content-length': String(request.body.length) },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

const sha256 = (body: Uint8Array) => createHash('sha256').update(body).digest('hex');
const canonicalValue = (value: string) => value.replace(/[ \t]+/g, ' ').trim();
const safeSegment = fc.stringMatching(/^[A-Za-z0-9_~-]{1,12}$/);
const queryKey = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
/** Header values that survive HTTP as they are: printable ASCII, no leading or trailing blank. */
const headerValue = fc.stringMatching(/^[!-~]([ !-~]{0,30}[!-~])?$/);

/** A request a gateway might sign: method, a path of encoded segments, a query, extra headers, a body. */
export function arbitraryRequest(host: string): fc.Arbitrary<WireRequest> {
  return fc
    .record({
      method: fc.constantFrom('POST', 'PUT', 'PATCH'),
      // Not '', '.' or '..': SigV4 normalizes those away, so a change to them is no change.
      segments: fc.array(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).filter((s) => s !== '.' && s !== '..'),
        { maxLength: 3 },
      ),
      query: fc.array(fc.tuple(queryKey, fc.string({ unit: 'grapheme', maxLength: 10 })), { maxLength: 3 }),
      extra: fc.dictionary(fc.stringMatching(/^x-test-[a-z]{1,6}$/), headerValue, { maxKeys: 2 }),
      body: fc.uint8Array({ maxLength: 200 }),
    })
    .map(({ method, segments, query, extra, body }) => ({
      method,
      rawPath: `/${segments.map(encodeURIComponent).join('/')}`,
      rawQuery: query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
      headers: { host, 'content-type': 'application/json', ...extra },
      body,
    }));
}

export type Mutation = { name: string; apply: (signed: WireRequest) => WireRequest | undefined };

const withHeaders = (request: WireRequest, headers: Record<string, string>): WireRequest => ({ ...request, headers });
const signedHeaderNames = (request: WireRequest) => /SignedHeaders=([^,]+)/.exec(request.headers.authorization ?? '')![1]!.split(';');

/**
 * One change to a signed request that changes what was signed (never one that SigV4
 * canonicalizes away, such as extra blanks inside a header value). `apply` returns
 * undefined when the change does not fit the request (e.g. dropping a query from none).
 */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((i) => ({
    name: 'flip a body bit (hash header kept)',
    apply: (r: WireRequest) => (r.body.length ? { ...r, body: r.body.map((b, j) => (j === i % r.body.length ? b ^ (1 << i % 8) : b)) } : undefined),
  })),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra) => ({
    name: 'append to the body and re-hash it',
    apply: (r: WireRequest) => {
      const body = new Uint8Array([...r.body, ...extra]);
      return { ...r, body, headers: { ...r.headers, 'x-amz-content-sha256': sha256(body) } };
    },
  })),
  fc.constant({ name: 'empty the body', apply: (r: WireRequest) => (r.body.length ? { ...r, body: new Uint8Array() } : undefined) }),
  safeSegment.map((segment) => ({ name: 'append a path segment', apply: (r: WireRequest) => ({ ...r, rawPath: `${r.rawPath.replace(/\/$/, '')}/${segment}` }) })),
  safeSegment.map((segment) => ({ name: 'prefix a path segment', apply: (r: WireRequest) => ({ ...r, rawPath: `/${segment}${r.rawPath}` }) })),
  fc.tuple(queryKey, safeSegment).map(([k, v]) => ({ name: 'add a query parameter', apply: (r: WireRequest) => ({ ...r, rawQuery: r.rawQuery ? `${r.rawQuery}&${k}=${v}` : `${k}=${v}` }) })),
  fc.constant({ name: 'drop the query', apply: (r: WireRequest) => (r.rawQuery ? { ...r, rawQuery: '' } : undefined) }),
  safeSegment.map((v) => ({
    name: 'change a query value',
    apply: (r: WireRequest) => {
      if (!r.rawQuery) return undefined;
      const [first, ...rest] = r.rawQuery.split('&');
      const key = first!.split('=')[0];
      const changed = `${key}=${encodeURIComponent(decodeURIComponent(first!.slice(key!.length + 1)) + v)}`;
      return { ...r, rawQuery: [changed, ...rest].join('&') };
    },
  })),
  fc.tuple(fc.nat(), headerValue).map(([i, value]) => ({
    name: 'change a signed header',
    apply: (r: WireRequest) => {
      const names = signedHeaderNames(r).filter((name) => name !== 'host' && name !== 'x-amz-date');
      const name = names[i % Math.max(names.length, 1)];
      if (!name || canonicalValue(value) === canonicalValue(r.headers[name]!)) return undefined;
      // The hash header is also compared with the body: a wrong one is refused either way.
      return withHeaders(r, { ...r.headers, [name]: value });
    },
  })),
  fc.nat().map((i) => ({
    name: 'drop a signed header',
    apply: (r: WireRequest) => {
      // Not host: every HTTP/1.1 client sends it again by itself.
      const names = signedHeaderNames(r).filter((name) => name !== 'host');
      const { [names[i % names.length]!]: _dropped, ...headers } = r.headers;
      return withHeaders(r, headers);
    },
  })),
  fc.integer({ min: 1, max: 240 }).map((seconds) => ({
    name: 'move X-Amz-Date within the allowed skew',
    apply: (r: WireRequest) => {
      const at = r.headers['x-amz-date']!;
      const date = new Date(Date.parse(`${at.slice(0, 4)}-${at.slice(4, 6)}-${at.slice(6, 11)}:${at.slice(11, 13)}:${at.slice(13, 15)}Z`) - seconds * 1000);
      return withHeaders(r, { ...r.headers, 'x-amz-date': date.toISOString().replace(/[-:]|\.\d{3}/g, '') });
    },
  })),
  fc.constantFrom('PUT', 'POST', 'PATCH', 'DELETE').map((method) => ({ name: 'change the method', apply: (r: WireRequest) => (r.method === method ? undefined : { ...r, method }) })),
  fc.nat(63).map((i) => ({
    name: 'change one signature digit',
    apply: (r: WireRequest) => {
      const auth = r.headers.authorization!;
      const at = auth.indexOf('Signature=') + 'Signature='.length + i;
      const digit = auth[at] === '0' ? '1' : '0';
      return withHeaders(r, { ...r.headers, authorization: auth.slice(0, at) + digit + auth.slice(at + 1) });
    },
  })),
  fc.constant({
    name: 'leave a signed header out of SignedHeaders',
    apply: (r: WireRequest) =>
      withHeaders(r, { ...r.headers, authorization: r.headers.authorization!.replace(/SignedHeaders=([^,]+)/, (_, list: string) => `SignedHeaders=${list.split(';').filter((n) => n !== 'content-type').join(';')}`) }),
  }),
);
