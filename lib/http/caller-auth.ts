/**
 * Authenticates the machine calling enrich-token: either the Function URL's AWS_IAM
 * identity (Lambda verified the SigV4 signature before invoking us) or an X-API-Key
 * equal to one of the configured keys. Neither is 401: never open by default.
 *
 * The keys come from a source (Secrets Manager in AWS). A key we do not know makes us read
 * the secret once more before refusing — a key added by rotation works at once — and the
 * store bounds how often that re-read may happen, so spraying bad keys cannot hammer it.
 */
import { timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors.js';
import type { Source } from '../secrets/credentials.js';
import type { HttpEvent } from './types.js';

export type CallerAuthenticator = (event: HttpEvent) => Promise<void>;

/** RFC 9110 wants a challenge on every 401; API keys have no registered scheme, so name the header. */
const CHALLENGE = 'ApiKey realm="iam-service", header="X-API-Key"';
const FRESH = { fresh: true } as const;

export function apiKeyOrIamCaller(apiKeys: Source<readonly string[]>, options: { basic?: boolean } = {}): CallerAuthenticator {
  // Constant-time comparison against every key of the same length. Only a key's length can be
  // learnt from timing, and every generated key has the same one (43 characters of base64url).
  // Hashing the presented key first would hide that too, at ~7 µs a call on the hot path.
  let known: { from: readonly string[]; keys: Buffer[] } = { from: [], keys: [] };
  // Not async: the caller awaits the source once, not a promise of ours around it too.
  const matches = (keys: readonly string[], candidate: Buffer) => {
    if (keys !== known.from) known = { from: keys, keys: keys.map((key) => Buffer.from(key, 'utf8')) };
    let match = false;
    for (const key of known.keys) match = (key.length === candidate.length && timingSafeEqual(key, candidate)) || match;
    return match;
  };
  return async (event) => {
    const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam;
    if (iam?.userArn) return;
    const presented = event.headers?.['x-api-key'] ?? (options.basic ? basicPassword(event.headers?.authorization) : undefined);
    if (presented === undefined || presented === '') {
      throw new UnauthorizedError(
        'The caller is not authenticated: sign the request with SigV4 (AWS_IAM) or send an X-API-Key header (or the key as a Basic password).',
        CHALLENGE,
      );
    }
    const candidate = Buffer.from(presented, 'utf8');
    if (!matches(await apiKeys(), candidate) && !matches(await apiKeys(FRESH), candidate)) throw new UnauthorizedError('The X-API-Key header does not carry a valid key.', CHALLENGE);
  };
}

/**
 * With `basic`, callers that can only do HTTP Basic (Ory Oathkeeper's hydrator: `api.auth.basic`)
 * send the key as the password; the user name is not checked. Off where Authorization belongs to
 * someone else (forward-auth: the end user's bearer token).
 */
function basicPassword(header: string | undefined): string | undefined {
  const match = /^basic +([A-Za-z0-9+/]+=*)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
