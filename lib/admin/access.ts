/**
 * Who may do what in the admin API. Deny by default: every route declares one of these
 * requirements, and anything else is refused.
 *   platform  platform admins only (`iam:*` in the reserved `platform` tenant)
 *   tenant    platform admins, or admins of the route's tenant (`iam:admin` or `iam:*` there)
 * A tenant admin asking for another tenant gets 404, as if it did not exist; a caller who
 * administers nothing gets 403. The platform tenant itself is managed by platform admins only,
 * since its roles grant platform-wide power.
 */
import { ForbiddenError, NotFoundError } from '../errors.js';
import { PLATFORM_TENANT } from './model.js';
import type { AdminScope } from './ports.js';

export type Access = 'platform' | 'tenant';

export interface AdminCaller {
  subject: string;
  scope: AdminScope;
}

export function authorize(caller: AdminCaller, access: Access, tenant: string | undefined): void {
  const { scope } = caller;
  if (scope.platform) return;
  if (access === 'tenant' && tenant !== undefined && tenant !== PLATFORM_TENANT && scope.tenants.has(tenant)) return;
  if (access === 'tenant' && tenant !== undefined && scope.tenants.size > 0) {
    throw new NotFoundError(`Tenant "${tenant}" does not exist.`, 'tenant-not-found');
  }
  throw new ForbiddenError('The caller is not allowed to perform this operation.');
}
