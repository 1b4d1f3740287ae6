/**
 * From a file to a plan the caller may carry out: read what the API holds for the file's
 * tenants, check every tenant against the caller's scope (before anything changes), diff, and
 * read the ETag of every resource an update or delete touches (apply sends it as If-Match, so a
 * change made by someone else since the plan is refused, not overwritten).
 */
import type { AdminApi } from './admin-api.js';
import { CliError } from './cli-error.js';
import { type CallerScope, callerScope, type LiveTenant, notAdministered, outsideScope, readTenant } from './live-state.js';
import type { PolicyDocument } from './model.js';
import { type Change, diff, type Plan } from './plan.js';

export async function makePlan(api: AdminApi, policy: PolicyDocument, options: { prune: boolean }): Promise<Plan> {
  const scope = await callerScope(api);
  const slugs = Object.keys(policy.tenants);
  // Tenants outside the caller's scope are not read: the API would answer 404 and audit a denial.
  const outside = outsideScope(scope, slugs);
  const live: Record<string, LiveTenant | undefined> = {};
  for (const slug of slugs) live[slug] = outside.includes(slug) ? undefined : await readTenant(api, slug);
  const plan = diff(policy, live, options.prune);
  if (!scope.platformAdmin) refuseOutsideScope(scope, outside, plan.changes.filter((c) => c.kind === 'tenant' && !outside.includes(c.tenant)));
  for (const c of plan.changes) if (c.resource) c.etag = (await api.request('GET', c.resource)).etag;
  return plan;
}

/** A tenant admin manages their own tenant's roles, mappings and clients: nothing else, and never half of a file. */
function refuseOutsideScope(scope: CallerScope, outside: string[], tenantChanges: Change[]): void {
  const reasons = [
    ...outside.map((slug) => notAdministered(scope, slug)),
    ...tenantChanges.map((c) => `tenant ${c.tenant}: ${c.op === 'create' ? 'creating' : 'renaming, suspending or resuming'} a tenant needs a platform admin`),
  ];
  if (reasons.length > 0) {
    throw new CliError(`refused before any change: this token is a tenant admin's, and the file reaches beyond its tenant:\n  ${reasons.join('\n  ')}`);
  }
}
