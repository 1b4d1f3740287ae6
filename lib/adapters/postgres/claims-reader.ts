import type { ClaimsLookup, ClaimsQuery, SubjectType } from '../../policy/claims.js';
import type { ClaimsReader } from '../../policy/policy-store.js';
import type { Queryable } from './database.js';

interface ClaimsRow extends Record<string, unknown> {
  outcome: ClaimsLookup['outcome'];
  tenant_id: string | null;
  tenant_slug: string | null;
  subject_type: SubjectType | null;
  roles: string[] | null;
  permissions: string[] | null;
}

/** Reads claims through `iam_resolve_claims` (see its migration for why it is a function). */
export function postgresClaimsReader(db: Queryable): ClaimsReader {
  return {
    async resolveClaims({ subject, tenant, clientId }) {
      const [row] = await db.query<ClaimsRow>(
        'resolve_claims',
        'SELECT * FROM iam_resolve_claims($1, $2, $3)',
        [subject, tenant ?? null, clientId ?? null],
      );
      if (!row) throw new Error('iam_resolve_claims returned no row');
      switch (row.outcome) {
        case 'ok':
          return {
            outcome: 'ok',
            tenant: { id: row.tenant_id!, slug: row.tenant_slug! },
            subjectType: row.subject_type!,
            roles: row.roles ?? [],
            permissions: row.permissions ?? [],
          };
        case 'tenant_suspended':
          return { outcome: 'tenant_suspended', tenant: { id: row.tenant_id!, slug: row.tenant_slug! } };
        default:
          return { outcome: row.outcome };
      }
    },
  };
}
