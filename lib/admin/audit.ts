/** Reading the audit trail: a tenant's, or (platform admins) everyone's. */
import { BadRequestError } from '../errors.js';
import type { PageRequest } from './model.js';
import type { Reply } from './mutation.js';
import { type Deps, requireTenant } from './tenants.js';
import { auditView, pageView } from './views.js';

export async function listAudit(deps: Deps, tenantSlug: string | undefined, page: PageRequest): Promise<Reply> {
  // Audit pages are keyed by entry id.
  if (page.after !== undefined && !/^\d{1,18}$/.test(page.after)) throw new BadRequestError('The cursor is not one this API issued.');
  const tenantId = tenantSlug === undefined ? undefined : (await requireTenant(deps.store, tenantSlug)).id;
  return { status: 200, body: pageView(await deps.store.audit.list({ tenantId }, page), auditView) };
}
