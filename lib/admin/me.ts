/**
 * `GET /me`: who the caller is for the admin API — its subject, whether it is a platform admin,
 * and the tenants it administers — from the scope its request was authorized with
 * (lib/admin/access.ts), so the answer and the decisions cannot disagree.
 *
 * Not audited, like the other reads: it tells the caller only about itself. The audited reads
 * (lib/admin/explain.ts) tell about other subjects.
 */
import { type AdminCaller, administeredTenants } from './access.js';
import type { Reply } from './mutation.js';

export function whoAmI(caller: AdminCaller): Reply {
  return { status: 200, body: { subject: caller.subject, platform_admin: caller.scope.platform, tenants: administeredTenants(caller) } };
}
