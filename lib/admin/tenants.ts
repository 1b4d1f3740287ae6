/** Tenant use cases. Slugs are immutable; the platform tenant cannot be suspended or deleted. */
import { ConflictError, NotFoundError, PreconditionFailedError } from '../errors.js';
import { type CloudEvent, cloudEvent } from '../events/catalog.js';
import { type IfMatch, type MutationContext, mutate, type Reply } from './mutation.js';
import { PLATFORM_TENANT, type PageRequest, type Tenant, type TenantStatus } from './model.js';
import type { Lock, PolicyRepositories, PolicyStore } from './ports.js';
import { pageView, tenantView } from './views.js';

export interface Deps {
  store: PolicyStore;
  /** Publishes a committed change's events (bounded; never throws); the relay does the rest. */
  afterCommit?: (events: readonly CloudEvent[]) => Promise<unknown>;
}

export async function requireTenant(repos: Pick<PolicyRepositories, 'tenants'>, slug: string, options?: Lock): Promise<Tenant> {
  const tenant = await repos.tenants.get(slug, options);
  if (!tenant) throw new NotFoundError(`Tenant "${slug}" does not exist.`, 'tenant-not-found');
  return tenant;
}

export function checkVersion(current: number, ifMatch: IfMatch): void {
  if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.includes(current)) throw new PreconditionFailedError();
}

export const createTenant = (deps: Deps, ctx: MutationContext, input: { slug: string; name: string; status?: TenantStatus | undefined }) =>
  mutate(deps, ctx, 'tenant.create', async (tx) => {
    const tenant = await tx.tenants.create({ slug: input.slug, name: input.name, status: input.status ?? 'active' });
    return {
      reply: { status: 201, body: tenantView(tenant), version: tenant.version, location: `/tenants/${tenant.slug}` },
      action: 'tenant.create',
      target: `tenants/${tenant.slug}`,
      tenant,
      events: [cloudEvent('citadel.iam.tenant.created', `tenants/${tenant.slug}`, ctx.actor, tenantView(tenant))],
    };
  });

export async function getTenant(deps: Deps, slug: string): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  return { status: 200, body: tenantView(tenant), version: tenant.version };
}

export async function listTenants(deps: Deps, page: PageRequest): Promise<Reply> {
  return { status: 200, body: pageView(await deps.store.tenants.list(page), tenantView) };
}

export const updateTenant = (
  deps: Deps,
  ctx: MutationContext,
  slug: string,
  ifMatch: IfMatch,
  change: { name?: string | undefined; status?: TenantStatus | undefined },
) =>
  mutate(deps, ctx, 'tenant.update', async (tx) => {
    // Waits for the writes in flight in the tenant, which hold it FOR SHARE (lib/admin/lock-order.ts).
    const current = await requireTenant(tx, slug, { lock: 'no-key-update' });
    checkVersion(current.version, ifMatch);
    if (slug === PLATFORM_TENANT && change.status === 'suspended') {
      throw new ConflictError('The platform tenant cannot be suspended.', 'tenant-reserved');
    }
    const tenant = await tx.tenants.update(slug, change);
    return {
      reply: { status: 200, body: tenantView(tenant), version: tenant.version },
      action: change.status && change.status !== current.status ? `tenant.${change.status === 'suspended' ? 'suspend' : 'resume'}` : 'tenant.update',
      target: `tenants/${slug}`,
      tenant,
      events: [cloudEvent('citadel.iam.tenant.updated', `tenants/${slug}`, ctx.actor, tenantView(tenant))],
    };
  });

export const deleteTenant = (deps: Deps, ctx: MutationContext, slug: string, ifMatch: IfMatch) =>
  mutate(deps, ctx, 'tenant.delete', async (tx) => {
    if (slug === PLATFORM_TENANT) throw new ConflictError('The platform tenant cannot be deleted.', 'tenant-reserved');
    const tenant = await requireTenant(tx, slug, { lock: 'update' });
    checkVersion(tenant.version, ifMatch);
    if ((await tx.tenants.countClients(tenant.id)) > 0) {
      throw new ConflictError('The tenant still has OAuth clients; delete them first (they live in the IdP too).', 'tenant-has-clients');
    }
    await tx.tenants.delete(slug);
    return {
      reply: { status: 204 },
      action: 'tenant.delete',
      target: `tenants/${slug}`,
      tenant,
      events: [cloudEvent('citadel.iam.tenant.deleted', `tenants/${slug}`, ctx.actor, { id: tenant.id, slug })],
    };
  });
