/**
 * What a Lambda Function URL with `AuthType: AWS_IAM` checks before the function runs: an
 * AWS SigV4 `Authorization` header, by a known access key, scoped to this region and to
 * `lambda`, over this very request (method, path, query, signed headers, body) and signed
 * within the allowed clock skew. Only for the local Function URL (local/function-url.ts).
 *
 * The signature is recomputed with AWS's own signer (`@smithy/signature-v4`): the received
 * request is re-signed with the claimed date and only the headers it claims to sign, and the
 * two signatures are compared in constant time. Two things the signer does not do for us:
 *  - it trusts `x-amz-content-sha256` as the payload hash, so a changed body would pass:
 *    we hash the body ourselves and refuse a header that differs (and never sign with it);
 *  - it signs whatever date it is given: the clock-skew window is ours. AWS answers
 *    "Signature expired … (… - 5 min.)" to Lambda requests more than 5 minutes off
 *    (https://repost.aws/knowledge-center/lambda-sdk-signature); so do we, both ways.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface IamIdentity {
  accessKey: string;
  accountId: string;
  callerId: string;
  userArn: string;
  userId: string;
}

export interface SigningKey {
  secretAccessKey: string;
  identity: IamIdentity;
}

export interface VerifierOptions {
  region: string;
  /** `lambda` for a Function URL. */
  service: string;
  /** Access key id → its secret and whom it names. */
  keys: ReadonlyMap<string, SigningKey>;
  /** Milliseconds since the epoch. */
  now?: () => number;
  maxSkewMs?: number;
}

/** The request as it arrived: the raw (still percent-encoded) path and query, lower-case header names. */
export interface ReceivedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: Uint8Array;
}

export type Verdict = { ok: true; identity: IamIdentity } | { ok: false; reason: string };

const FIVE_MINUTES = 5 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNED_HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const QUERY_AUTH = /^x-amz-(algorithm|credential|signature|signedheaders|date|expires|security-token)$/i;

const refuse = (reason: string): Verdict => ({ ok: false, reason });

export function createSigV4Verifier(options: VerifierOptions): (request: ReceivedRequest) => Promise<Verdict> {
  const now = options.now ?? Date.now;
  const maxSkewMs = options.maxSkewMs ?? FIVE_MINUTES;
  // applyChecksum off: the re-signed request must carry exactly the headers the caller signed.
  const signers = new Map(
    [...options.keys].map(([accessKeyId, key]) => [
      accessKeyId,
      new SignatureV4({
        credentials: { accessKeyId, secretAccessKey: key.secretAccessKey },
        region: options.region,
        service: options.service,
        sha256: Sha256,
        applyChecksum: false,
        uriEscapePath: true,
      }),
    ]),
  );

  return async (request) => {
    const header = (name: string) => joined(request.headers[name]);
    const authorization = header('authorization');
    if (authorization === undefined) return refuse('unsigned');
    const auth = parseAuthorization(authorization);
    if (!auth) return refuse('not a SigV4 Authorization header');
    const query = parseQuery(request.rawQuery);
    if (!query) return refuse('malformed query string');
    // Presigned URLs (query-string auth) are not served locally; a request with both is ambiguous.
    if (Object.keys(query).some((key) => QUERY_AUTH.test(key))) return refuse('query-string authentication');
    // Local keys are long-term: a session token cannot belong to them.
    if (header('x-amz-security-token') !== undefined) return refuse('unexpected session token');

    const [accessKeyId, scopeDate, region, service, terminator, ...rest] = auth.credential.split('/');
    const signer = accessKeyId === undefined ? undefined : signers.get(accessKeyId);
    const key = accessKeyId === undefined ? undefined : options.keys.get(accessKeyId);
    if (!signer || !key) return refuse('unknown access key');
    if (rest.length || terminator !== 'aws4_request') return refuse('malformed credential scope');
    if (region !== options.region) return refuse('credential scope names another region');
    if (service !== options.service) return refuse('credential scope names another service');

    const amzDate = header('x-amz-date');
    const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
    if (signedAt === undefined) return refuse('missing or malformed X-Amz-Date');
    if (scopeDate !== amzDate!.slice(0, 8)) return refuse('credential scope date is not the X-Amz-Date day');
    if (Math.abs(now() - signedAt.getTime()) > maxSkewMs) return refuse('signature expired (X-Amz-Date more than 5 minutes off)');

    const signedHeaders = auth.signedHeaders.split(';');
    if (!signedHeaders.every((name) => SIGNED_HEADER_NAME.test(name))) return refuse('malformed SignedHeaders');
    if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return refuse('host and x-amz-date must be signed');
    // No prototype: a header named `__proto__` must stay a header.
    const headers: Record<string, string> = Object.create(null);
    for (const name of signedHeaders) {
      const value = header(name);
      if (value === undefined) return refuse('a signed header is missing');
      headers[name] = value;
    }

    // The payload is always signed with the hash of the body we received, whatever a header says.
    const bodyHash = createHash('sha256').update(request.body).digest('hex');
    const claimedHash = header('x-amz-content-sha256');
    if (claimedHash !== undefined && claimedHash !== bodyHash) return refuse('x-amz-content-sha256 is not the hash of the body');
    if ('x-amz-content-sha256' in headers) headers['x-amz-content-sha256'] = bodyHash;

    const resigned = await signer.sign(
      { method: request.method, protocol: 'https:', hostname: headers.host!, path: request.rawPath, query, headers, body: request.body },
      { signingDate: signedAt, signableHeaders: new Set(signedHeaders) },
    );
    const expected = parseAuthorization(String(resigned.headers.authorization));
    if (!expected || expected.signedHeaders !== auth.signedHeaders || expected.credential !== auth.credential) {
      return refuse('signed headers differ from the canonical request');
    }
    const a = Buffer.from(expected.signature, 'utf8');
    const b = Buffer.from(auth.signature, 'utf8');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return refuse('signature does not match');
    return { ok: true, identity: key.identity };
  };
}

interface ParsedAuthorization {
  credential: string;
  signedHeaders: string;
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (each part exactly once). */
function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const match = /^AWS4-HMAC-SHA256 +(.+)$/.exec(value);
  if (!match) return undefined;
  const parts = new Map<string, string>();
  for (const part of match[1]!.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (eq < 0 || parts.has(name)) return undefined;
    parts.set(name, part.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (parts.size !== 3 || !credential || !signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature)) return undefined;
  return { credential, signedHeaders, signature };
}

/** `YYYYMMDDTHHMMSSZ`, refusing dates that do not exist (month 13, 31 February). */
function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const roundTrip = date.toISOString().replace(/[-:]|\.\d{3}/g, '');
  return roundTrip === value ? date : undefined;
}

/** Decoded query parameters as the signer expects them; undefined for invalid percent-encoding. */
function parseQuery(raw: string): Record<string, string | string[]> | undefined {
  const query: Record<string, string | string[]> = Object.create(null);
  if (raw === '') return query;
  try {
    for (const pair of raw.split('&')) {
      const eq = pair.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
      const prior = query[key];
      query[key] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
  } catch {
    return undefined;
  }
  return query;
}

function joined(value: string | readonly string[] | undefined): string | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(',');
}
