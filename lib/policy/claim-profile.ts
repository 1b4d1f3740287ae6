/**
 * The claims a token carries, in the JWT access-token profile (RFC 9068 §2.2.3.1: `roles`,
 * `entitlements`) plus the tenant, under a configurable namespace (e.g. `https://citadel.example/`
 * gives `https://citadel.example/tenant`; Cognito and Auth0-style IdPs want one). One tenant per
 * token, never a merge. The set has a byte budget: a token that would break a header limit
 * downstream is refused clearly here instead of failing obscurely at a proxy.
 */
import { AppError } from '../errors.js';
import type { Claims } from './claims.js';

export interface ClaimProfile {
  /** Prefix of every claim name; '' for bare names. */
  namespace: string;
  /** Largest JSON size of the claim set, in bytes. */
  maxBytes: number;
}

export type TokenClaims = Record<string, string | string[]>;

/** The claim set would not fit the byte budget: the subject has too many roles or permissions. */
export class ClaimsTooLargeError extends AppError {
  constructor(bytes: number, budget: number) {
    super(422, 'claims-too-large', 'Unprocessable Content', `The subject's claims take ${bytes} bytes, over the ${budget}-byte budget of a token.`);
  }
}

export function tokenClaims(claims: Claims, profile: ClaimProfile): TokenClaims {
  const ns = profile.namespace;
  const set: TokenClaims = {
    [`${ns}tenant`]: claims.tenant.slug,
    [`${ns}tenant_id`]: claims.tenant.id,
    [`${ns}subject_type`]: claims.subject_type,
    [`${ns}roles`]: claims.roles,
    [`${ns}entitlements`]: claims.permissions,
  };
  // Measured exactly only when a cheap upper bound does not already show the set fits.
  if (jsonBytesAtMost(set) <= profile.maxBytes) return set;
  const bytes = Buffer.byteLength(JSON.stringify(set));
  if (bytes > profile.maxBytes) throw new ClaimsTooLargeError(bytes, profile.maxBytes);
  return set;
}

/**
 * An upper bound of `Buffer.byteLength(JSON.stringify(set))`: no UTF-16 code unit takes more than
 * 6 bytes in JSON (`\u001f`; a raw one at most 3 in UTF-8), and each string adds at most 4 bytes
 * of quotes and separators, each array 2 of brackets. A loop over lengths, where serializing the
 * set on every token costs ~1-2 µs.
 */
export function jsonBytesAtMost(set: TokenClaims): number {
  let bytes = 2;
  for (const name in set) {
    const value = set[name]!;
    bytes += 6 * name.length + 4;
    if (typeof value === 'string') {
      bytes += 6 * value.length + 4;
    } else {
      bytes += 2;
      for (const item of value) bytes += 6 * item.length + 4;
    }
  }
  return bytes;
}
