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
  const bytes = Buffer.byteLength(JSON.stringify(set));
  if (bytes > profile.maxBytes) throw new ClaimsTooLargeError(bytes, profile.maxBytes);
  return set;
}
