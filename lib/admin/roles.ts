/** Role use cases. Role names are immutable; deleting a role removes it from every mapping. */
import { NotFoundError } from '../errors.js';
import { cloudEvent } from '../events/catalog.js';
import type { PageRequest, Role } from './model.js';
import { type IfMatch, type MutationContext, mutate, type Reply } from './mutation.js';
import type { Lock, PolicyRepositories } from './ports.js';
import { lockTenant } from './lock-order.js';
import { checkVersion, type Deps, requireTenant } from './tenants.js';
import { pageView, roleView } from './views.js';

async function requireRole(repos: PolicyRepositories, tenantId: string, name: string, options?: Lock): Promise<Role> {
  const role = await repos.roles.get(tenantId, name, options);
  if (!role) throw new NotFoundError(`Role "${name}" does not exist in this tenant.`, 'role-not-found');
  return role;
}

const target = (tenant: string, role: string) => `tenants/${tenant}/roles/${role}`;

export const createRole = (
  deps: Deps,
  ctx: MutationContext,
  slug: string,
  input: { name: string; description?: string | undefined; permissions: string[] },
) =>
  mutate(deps, ctx, 'role.create', async (tx) => {
    const tenant = await lockTenant(tx, slug);
    const role = await tx.roles.create(tenant.id, { name: input.name, description: input.description ?? '', permissions: input.permissions });
    const view = roleView(role, slug);
    return {
      reply: { status: 201, body: view, version: role.version, location: `/${target(slug, role.name)}` },
      action: 'role.create',
      target: target(slug, role.name),
      tenant,
      events: [cloudEvent('citadel.iam.role.created', target(slug, role.name), ctx.actor, view)],
    };
  });

export async function getRole(deps: Deps, slug: string, name: string): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  const role = await requireRole(deps.store, tenant.id, name);
  return { status: 200, body: roleView(role, slug), version: role.version };
}

export async function listRoles(deps: Deps, slug: string, page: PageRequest): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  return { status: 200, body: pageView(await deps.store.roles.list(tenant.id, page), (r) => roleView(r, slug)) };
}

export const updateRole = (
  deps: Deps,
  ctx: MutationContext,
  slug: string,
  name: string,
  ifMatch: IfMatch,
  change: { description?: string | undefined; permissions?: string[] | undefined },
) =>
  mutate(deps, ctx, 'role.update', async (tx) => {
    const tenant = await lockTenant(tx, slug);
    // NO KEY UPDATE, what the UPDATE takes anyway: assignments of the role (FOR SHARE) wait.
    checkVersion((await requireRole(tx, tenant.id, name, { lock: 'no-key-update' })).version, ifMatch);
    const role = await tx.roles.update(tenant.id, name, change);
    const view = roleView(role, slug);
    return {
      reply: { status: 200, body: view, version: role.version },
      action: 'role.update',
      target: target(slug, name),
      tenant,
      events: [cloudEvent('citadel.iam.role.updated', target(slug, name), ctx.actor, view)],
    };
  });

export const deleteRole = (deps: Deps, ctx: MutationContext, slug: string, name: string, ifMatch: IfMatch) =>
  mutate(deps, ctx, 'role.delete', async (tx) => {
    const tenant = await lockTenant(tx, slug);
    const role = await requireRole(tx, tenant.id, name, { lock: 'update' });
    checkVersion(role.version, ifMatch);
    await tx.roles.delete(tenant.id, name);
    return {
      reply: { status: 204 },
      action: 'role.delete',
      target: target(slug, name),
      tenant,
      events: [cloudEvent('citadel.iam.role.deleted', target(slug, name), ctx.actor, { id: role.id, tenant: slug, name })],
    };
  });
