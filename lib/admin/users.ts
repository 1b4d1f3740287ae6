/**
 * User-to-role mappings: PUT replaces a subject's roles in a tenant; DELETE removes it from the
 * tenant. Membership never reaches across tenants (README, "Security"): mapping a subject that
 * another tenant also has leaves that subject's home — and so its sign-ins there — as they were
 * (migrations/1764200000000_subject-homes.sql), and a client id is never a user anywhere.
 */
import { BadRequestError, ConflictError, NotFoundError, PreconditionFailedError } from '../errors.js';
import { cloudEvent } from '../events/catalog.js';
import type { PageRequest, UserMapping } from './model.js';
import { type IfMatch, type MutationContext, mutate, type Reply } from './mutation.js';
import type { Lock, PolicyRepositories } from './ports.js';
import { lockRoles, lockTenant } from './lock-order.js';
import { checkVersion, type Deps, requireTenant } from './tenants.js';
import { pageView, userView } from './views.js';

async function requireUser(repos: PolicyRepositories, tenantId: string, subject: string, options?: Lock): Promise<UserMapping> {
  const mapping = await repos.users.get(tenantId, subject, options);
  if (!mapping || mapping.subjectType !== 'user') throw new NotFoundError('The subject has no mapping in this tenant.', 'user-not-found');
  return mapping;
}

const target = (tenant: string, subject: string) => `tenants/${tenant}/users/${encodeURIComponent(subject)}`;

export const putUser = (deps: Deps, ctx: MutationContext, slug: string, subject: string, ifMatch: IfMatch, roles: string[]) =>
  mutate(deps, ctx, 'user.put', async (tx) => {
    // Tenant, then the roles to assign, then the subject (lib/admin/lock-order.ts).
    const tenant = await lockTenant(tx, slug);
    await lockRoles(tx, tenant.id, roles);
    const existing = await tx.users.get(tenant.id, subject, { lock: true });
    // A client belongs to the tenant that created it: no tenant maps it as a user. One answer
    // whichever tenant created it, which it does not name (client ids are the IdP's to issue).
    if (existing?.subjectType === 'client' || (!existing && (await tx.users.isClientAnywhere(subject)))) {
      throw new ConflictError('The subject is an OAuth client; a client belongs to the tenant that created it: manage its roles through that tenant\'s /clients.', 'subject-is-client');
    }
    if (ifMatch !== undefined) {
      // A conditional PUT of a mapping that does not exist matches no version (RFC 9110 §13.1.1).
      if (!existing) throw new PreconditionFailedError('If-Match names a version, but the subject has no mapping in this tenant.');
      checkVersion(existing.version, ifMatch);
    }
    const unique = [...new Set(roles)];
    const missing = await tx.roles.missing(tenant.id, unique);
    if (missing.length > 0) {
      throw new BadRequestError(
        `Unknown role(s) in this tenant: ${missing.join(', ')}.`,
        missing.map((name) => ({ path: 'roles', message: `role "${name}" does not exist in this tenant` })),
      );
    }
    const { mapping, created } = await tx.users.put(tenant.id, subject, unique);
    const view = userView(mapping, slug);
    return {
      reply: { status: created ? 201 : 200, body: view, version: mapping.version, location: created ? `/${target(slug, subject)}` : undefined },
      action: 'user.set_roles',
      target: target(slug, subject),
      tenant,
      events: [cloudEvent('citadel.iam.user.roles_set', target(slug, subject), ctx.actor, view)],
    };
  });

export async function getUser(deps: Deps, slug: string, subject: string): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  const mapping = await requireUser(deps.store, tenant.id, subject);
  return { status: 200, body: userView(mapping, slug), version: mapping.version };
}

export async function listUsers(deps: Deps, slug: string, page: PageRequest): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  return { status: 200, body: pageView(await deps.store.users.list(tenant.id, page), (m) => userView(m, slug)) };
}

export const deleteUser = (deps: Deps, ctx: MutationContext, slug: string, subject: string, ifMatch: IfMatch) =>
  mutate(deps, ctx, 'user.delete', async (tx) => {
    const tenant = await lockTenant(tx, slug);
    checkVersion((await requireUser(tx, tenant.id, subject, { lock: true })).version, ifMatch);
    await tx.users.delete(tenant.id, subject);
    return {
      reply: { status: 204 },
      action: 'user.remove',
      target: target(slug, subject),
      tenant,
      events: [cloudEvent('citadel.iam.user.removed', target(slug, subject), ctx.actor, { tenant: slug, subject })],
    };
  });
