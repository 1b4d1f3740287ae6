/** The one reading of `Authorization: Bearer <token>` (admin API and forward-auth). */

// RFC 9110 §11.1, §11.4 and RFC 6750 §2.1: the scheme is case-insensitive and followed by one
// or more spaces; the token is a b64token.
const BEARER = /^bearer +([A-Za-z0-9._~+/-]+=*)$/i;

/** What a 401 for a missing or malformed bearer token answers in WWW-Authenticate. */
export const BEARER_CHALLENGE = 'Bearer realm="iam-service"';

/** The token of an `Authorization: Bearer …` header; undefined when the header is absent or not one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return BEARER.exec(authorization ?? '')?.[1];
}
