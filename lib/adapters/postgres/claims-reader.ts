/**
 * enrich-token's lookup against the `subject_claims` read model (see its migration): the
 * answer for a known subject is one indexed single-row SELECT. Only the rarer outcomes take a
 * second query — telling an unknown tenant from an unknown subject, or letting the token's
 * client pick among several tenants.
 */
import type { ClaimsLookup, SubjectType } from '../../policy/claims.js';
import type { ClaimsReader } from '../../policy/policy-store.js';
import type { Queryable } from './database.js';

/** The `claims` column of subject_claims (see its migration). */
interface StoredClaims {
  tenant: { id: string; slug: string };
  status: string;
  subject_type: SubjectType;
  roles: string[];
  permissions: string[];
}

function toLookup(row: { claims: string }): ClaimsLookup {
  const claims = JSON.parse(row.claims) as StoredClaims;
  if (claims.status !== 'active') return { outcome: 'tenant_suspended', tenant: claims.tenant };
  return { outcome: 'ok', tenant: claims.tenant, subjectType: claims.subject_type, roles: claims.roles, permissions: claims.permissions };
}

export function postgresClaimsReader(db: Queryable): ClaimsReader {
  return {
    async resolveClaims({ subject, tenant, clientId }) {
      if (tenant !== undefined) {
        const [row] = await db.query<{ claims: string }>(
          'claims.by_tenant',
          'SELECT claims FROM subject_claims WHERE subject = $1 AND tenant_slug = $2',
          [subject, tenant],
        );
        if (row) return toLookup(row);
        const [known] = await db.query('claims.tenant_exists', 'SELECT 1 FROM tenants WHERE slug = $1', [tenant]);
        return { outcome: known ? 'subject_not_found' : 'tenant_not_found' };
      }
      const rows = await db.query<{ claims: string }>('claims.by_subject', 'SELECT claims FROM subject_claims WHERE subject = $1 LIMIT 2', [subject]);
      if (rows.length === 1) return toLookup(rows[0]!);
      if (rows.length === 0) return { outcome: 'subject_not_found' };
      if (clientId !== undefined) {
        const [row] = await db.query<{ claims: string }>(
          'claims.by_client_tenant',
          `SELECT c.claims FROM subject_claims c
             JOIN clients k ON k.tenant_id = c.tenant_id
            WHERE c.subject = $1 AND k.client_id = $2`,
          [subject, clientId],
        );
        if (row) return toLookup(row);
      }
      return { outcome: 'ambiguous' };
    },
  };
}
