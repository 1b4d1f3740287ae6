/**
 * Authenticates the machine calling enrich-token: either the Function URL's AWS_IAM
 * identity (Lambda verified the SigV4 signature before invoking us) or an X-API-Key
 * equal to one of the configured keys. Neither is 401: never open by default.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors.js';
import type { HttpEvent } from './types.js';

export type CallerAuthenticator = (event: HttpEvent) => void;

/** RFC 9110 wants a challenge on every 401; API keys have no registered scheme, so name the header. */
const CHALLENGE = 'ApiKey realm="iam-service", header="X-API-Key"';

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();

export function apiKeyOrIamCaller(apiKeys: readonly string[]): CallerAuthenticator {
  // Comparing fixed-length digests keeps the comparison constant-time whatever the key length.
  const known = apiKeys.map(digest);
  return (event) => {
    const iam = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam;
    if (iam?.userArn) return;
    const presented = event.headers?.['x-api-key'];
    if (presented === undefined || presented === '') {
      throw new UnauthorizedError(
        'The caller is not authenticated: sign the request with SigV4 (AWS_IAM) or send an X-API-Key header.',
        CHALLENGE,
      );
    }
    const candidate = digest(presented);
    let match = false;
    for (const key of known) match = timingSafeEqual(key, candidate) || match;
    if (!match) throw new UnauthorizedError('The X-API-Key header does not carry a valid key.', CHALLENGE);
  };
}
