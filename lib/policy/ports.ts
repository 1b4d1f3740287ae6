/** What the policy use case needs from outside: the policy store, read (lib/adapters/postgres/claims-reader.ts). */
import type { ClaimsLookup, ClaimsQuery } from './claims.js';

/** The policy store as every gateway dialect sees it (enrich-token, forward-auth, Cognito). */
export interface ClaimsReader {
  /** One database round trip: tenant, subject type, roles and permissions. */
  resolveClaims(query: ClaimsQuery): Promise<ClaimsLookup>;
}
