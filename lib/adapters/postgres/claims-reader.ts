/**
 * enrich-token's lookup against the `subject_claims` read model (see its migration): the
 * answer for a known subject is one indexed single-row SELECT. Only the rarer outcomes take a
 * second query — telling an unknown tenant from an unknown subject, or letting the token's
 * client pick among several tenants.
 */
import type { ClaimsLookup, SubjectType } from '../../policy/claims.js';
import type { ClaimsReader } from '../../policy/policy-store.js';
import type { Queryable } from './database.js';

interface ClaimsRow extends Record<string, unknown> {
  tenant_id: string;
  tenant_slug: string;
  tenant_status: string;
  subject_type: SubjectType;
  claims: { roles: string[]; permissions: string[] };
}

const COLUMNS = 'tenant_id, tenant_slug, tenant_status, subject_type, claims';

function toLookup(row: ClaimsRow): ClaimsLookup {
  const tenant = { id: row.tenant_id, slug: row.tenant_slug };
  if (row.tenant_status !== 'active') return { outcome: 'tenant_suspended', tenant };
  return { outcome: 'ok', tenant, subjectType: row.subject_type, roles: row.claims.roles, permissions: row.claims.permissions };
}

export function postgresClaimsReader(db: Queryable): ClaimsReader {
  return {
    async resolveClaims({ subject, tenant, clientId }) {
      if (tenant !== undefined) {
        const [row] = await db.query<ClaimsRow>(
          'claims.by_tenant',
          `SELECT ${COLUMNS} FROM subject_claims WHERE subject = $1 AND tenant_slug = $2`,
          [subject, tenant],
        );
        if (row) return toLookup(row);
        const [known] = await db.query('claims.tenant_exists', 'SELECT 1 FROM tenants WHERE slug = $1', [tenant]);
        return { outcome: known ? 'subject_not_found' : 'tenant_not_found' };
      }
      const rows = await db.query<ClaimsRow>('claims.by_subject', `SELECT ${COLUMNS} FROM subject_claims WHERE subject = $1 LIMIT 2`, [subject]);
      if (rows.length === 1) return toLookup(rows[0]!);
      if (rows.length === 0) return { outcome: 'subject_not_found' };
      if (clientId !== undefined) {
        const [row] = await db.query<ClaimsRow>(
          'claims.by_client_tenant',
          `SELECT ${COLUMNS.replace(/(\w+)/g, 'c.$1')} FROM subject_claims c
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
