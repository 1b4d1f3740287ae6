/**
 * Who may do what in the admin API. Deny by default: every route declares one of these
 * requirements, and anything else is refused.
 *   platform       platform admins only (`iam:*` in the reserved `platform` tenant)
 *   tenant         platform admins, or admins of the route's tenant (`iam:admin` or `iam:*` there)
 *   authenticated  any caller with a valid token, for what concerns only the caller itself
 *                  (`GET /me`); such a route is a GET without path parameters
 *                  (lib/admin/admin-function.ts refuses to build any other), so it names no
 *                  tenant and no object of one
 * A tenant admin asking for another tenant gets 404, as if it did not exist; a caller who
 * administers nothing gets 403. The platform tenant itself is managed by platform admins only,
 * since its roles grant platform-wide power.
 */
import { ForbiddenError, NotFoundError } from '../errors.js';
import { PLATFORM_TENANT } from './model.js';
import type { AdminScope } from './ports.js';

export type Access = 'platform' | 'tenant' | 'authenticated';

export interface AdminCaller {
  subject: string;
  scope: AdminScope;
}

/** Whether a caller with this scope may call a route of this access requirement for `tenant`. */
export function allows(scope: AdminScope, access: Access, tenant: string | undefined): boolean {
  if (access === 'authenticated' || scope.platform) return true;
  return access === 'tenant' && tenant !== undefined && tenant !== PLATFORM_TENANT && scope.tenants.has(tenant);
}

export function authorize(caller: AdminCaller, access: Access, tenant: string | undefined): void {
  const { scope } = caller;
  if (allows(scope, access, tenant)) return;
  if (access === 'tenant' && tenant !== undefined && scope.tenants.size > 0) {
    throw new NotFoundError(`Tenant "${tenant}" does not exist.`, 'tenant-not-found');
  }
  throw new ForbiddenError('The caller is not allowed to perform this operation.');
}

/**
 * The tenants whose `tenant` routes the caller may call as their admin (by `allows`, the rule
 * above), sorted. A platform admin may call every tenant's; this lists those where it holds
 * `iam:admin` or `iam:*` itself.
 */
export function administeredTenants(caller: AdminCaller): string[] {
  return [...caller.scope.tenants].filter((slug) => allows(caller.scope, 'tenant', slug)).sort();
}
