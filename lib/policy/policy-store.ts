import type { ClaimsLookup, ClaimsQuery } from './claims.js';

/** The policy store as enrich-token (and, later, admin authorization) sees it. */
export interface ClaimsReader {
  /** One database round trip: tenant, subject type, roles and permissions. */
  resolveClaims(query: ClaimsQuery): Promise<ClaimsLookup>;
}
