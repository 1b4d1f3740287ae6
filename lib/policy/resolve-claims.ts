/**
 * Every gateway dialect's use case (enrich-token, forward-auth, Cognito): an authenticated
 * subject becomes tenant, roles and permissions.
 * Every outcome but 'ok' is an error: the gateway never gets claims by default.
 */
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import type { Claims, ClaimsQuery } from './claims.js';
import type { ClaimsReader } from './ports.js';

/**
 * No claims for this subject in the tenant asked for. `known` tells the dialects whether the
 * subject is in some tenant (then they refuse) or in none (then "no change" is allowed); the
 * problem body is the same either way, and the same whether the named tenant exists, is
 * suspended or not: a caller learns nothing about slugs from it.
 */
export class SubjectNotFoundError extends NotFoundError {
  constructor(
    detail: string,
    readonly known: boolean,
  ) {
    super(detail, 'subject-not-found');
  }
}

export async function enrichToken(deps: { claims: ClaimsReader }, query: ClaimsQuery): Promise<Claims> {
  const found = await deps.claims.resolveClaims(query);
  switch (found.outcome) {
    case 'ok':
      return {
        subject: query.subject,
        subject_type: found.subjectType,
        tenant: found.tenant,
        roles: found.roles,
        permissions: found.permissions,
      };
    case 'subject_not_found':
    case 'not_member':
      throw new SubjectNotFoundError(
        query.tenant === undefined ? 'The subject belongs to no tenant.' : `The subject does not belong to tenant "${query.tenant}".`,
        found.outcome === 'not_member',
      );
    case 'tenant_suspended':
      throw new ForbiddenError(`Tenant "${found.tenant.slug}" is suspended.`, 'tenant-suspended');
    case 'ambiguous':
      throw new ConflictError(
        'The subject belongs to several tenants and has no home tenant; name one in "tenant".',
        'tenant-required',
      );
  }
}
