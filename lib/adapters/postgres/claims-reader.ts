/**
 * enrich-token's lookup against the `subject_claims` read model (see its migrations): the
 * answer for a known subject is one indexed SELECT of at most two rows. Only the rarer outcomes
 * take a second query — telling a subject we know from one we don't when it names a tenant it is
 * not in, or letting the token's client pick among several tenants when the subject has no home.
 */
import type { ClaimsLookup, SubjectType } from '../../policy/claims.js';
import type { ClaimsReader } from '../../policy/ports.js';
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
        // Never whether the slug exists (or is suspended): only whether the subject is ours at all.
        const [known] = await db.query('claims.subject_known', 'SELECT 1 FROM subject_claims WHERE subject = $1 LIMIT 1', [subject]);
        return { outcome: known ? 'not_member' : 'subject_not_found' };
      }
      // The home tenant first (README, "Security"): then a second row never makes it ambiguous.
      const rows = await db.query<{ claims: string; is_home: boolean }>(
        'claims.by_subject',
        'SELECT claims, is_home FROM subject_claims WHERE subject = $1 ORDER BY is_home DESC LIMIT 2',
        [subject],
      );
      if (rows.length === 0) return { outcome: 'subject_not_found' };
      if (rows.length === 1 || rows[0]!.is_home) return toLookup(rows[0]!);
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
