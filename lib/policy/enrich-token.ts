/**
 * enrich-token's use case: an authenticated subject becomes tenant, roles and permissions.
 * Every outcome but 'ok' is an error: the gateway never gets claims by default.
 */
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import type { Claims, ClaimsQuery } from './claims.js';
import type { ClaimsReader } from './policy-store.js';

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
    case 'tenant_not_found':
      throw new NotFoundError(`Tenant "${query.tenant}" does not exist.`, 'tenant-not-found');
    case 'subject_not_found':
      throw new NotFoundError(
        query.tenant === undefined
          ? 'The subject belongs to no tenant.'
          : `The subject does not belong to tenant "${query.tenant}".`,
        'subject-not-found',
      );
    case 'tenant_suspended':
      throw new ForbiddenError(`Tenant "${found.tenant.slug}" is suspended.`, 'tenant-suspended');
    case 'ambiguous':
      throw new ConflictError(
        'The subject belongs to several tenants; name one in "tenant".',
        'tenant-required',
      );
  }
}
