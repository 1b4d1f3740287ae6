/**
 * Access explained (read-only): why a subject has what it has in a tenant, and who holds a
 * permission. enrich-token's answer is computed by enrich-token's own use case
 * (lib/policy/resolve-claims.ts) on enrich-token's own reader, so the two cannot drift.
 *
 * Wildcards, as enrich-token's consumers read the permissions it hands them: a granted
 * permission covers an asked one when they are equal, when the granted one is `*`, or when it
 * ends in `:*` and the asked one starts with what precedes the `*` (`invoices:*` covers
 * `invoices:read`, `invoices:lines:write` and `invoices:*`; not `invoicesx:read`). A `*`
 * anywhere else is an ordinary character. Asking who has `invoices:*` therefore finds the
 * holders of `invoices:*` and of `*`, not the holders of `invoices:read`.
 *
 * These reads are audited (action `…access.read`, `permission.subjects.read`), unlike the
 * other reads of the admin API: they are what an access review is made of.
 */
import { AppError, NotFoundError } from '../errors.js';
import { PROBLEM_TYPE_BASE } from '../http/problem.js';
import type { SubjectType } from '../policy/claims.js';
import type { ClaimsReader } from '../policy/ports.js';
import { enrichToken } from '../policy/resolve-claims.js';
import type { Page, PageRequest, Tenant } from './model.js';
import type { MutationContext, Reply } from './mutation.js';
import type { PolicyStore, Repository } from './ports.js';
import { permission } from './schemas.js';
import { requireTenant } from './tenants.js';
import { pageView } from './views.js';

/** What explaining needs from storage (lib/adapters/postgres/access-reader.ts). */
export interface AccessReader {
  /** The subject's type and roles (with their permissions) in the tenant; undefined when it has no mapping there. */
  subject(tenantId: string, subject: string): Promise<{ subjectType: SubjectType; roles: RoleGrant[] } | undefined>;
  /** Subjects holding a role with a permission that covers `permission` (the rule above), by subject. */
  holders(tenantId: string, permission: string, page: PageRequest): Promise<Page<Holder>>;
}

export interface RoleGrant {
  name: string;
  permissions: string[];
}

export interface Holder {
  subject: string;
  subjectType: SubjectType;
  /** The roles through which it holds the permission. */
  roles: string[];
}

export interface ExplainDeps {
  store: PolicyStore;
  /** enrich-token's reader: its answer is the one explained. */
  claims: ClaimsReader;
  access: Repository<AccessReader>;
}

/** The path parameter: one permission, as a role may hold it (URL-encode `:`, `*` and `/` freely). */
export const permissionParam = permission;

/** Whether a granted permission covers an asked one (the rule in this file's header). */
export function covers(granted: string, asked: string): boolean {
  return granted === asked || granted === '*' || (granted.endsWith(':*') && asked.startsWith(granted.slice(0, -1)));
}

/** What enrich-token answers for this subject and tenant: 200, or the status and problem type it refuses with. */
async function enrichAnswer(claims: ClaimsReader, subject: string, tenant: string) {
  try {
    await enrichToken({ claims }, { subject, tenant });
    return { status: 200, type: null };
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    return { status: error.status, type: PROBLEM_TYPE_BASE + error.code };
  }
}

interface Explained {
  tenant: Tenant;
  subject: string;
  found: Awaited<ReturnType<AccessReader['subject']>>;
  action: string;
  target: string;
}

async function explain(deps: ExplainDeps, ctx: MutationContext, { tenant, subject, found, action, target }: Explained): Promise<Reply> {
  const roles = found?.roles ?? [];
  const granting = new Map<string, Set<string>>();
  for (const role of roles) for (const p of role.permissions) (granting.get(p) ?? granting.set(p, new Set()).get(p)!).add(role.name);
  const enrich = await enrichAnswer(deps.claims, subject, tenant.slug);
  await auditRead(deps.store, ctx, tenant, action, target);
  return {
    status: 200,
    body: {
      tenant: tenant.slug,
      tenant_status: tenant.status,
      subject,
      subject_type: found?.subjectType ?? null,
      roles: roles.map((r) => ({ name: r.name, permissions: [...r.permissions].sort() })),
      permissions: [...granting.keys()].sort().map((p) => ({ permission: p, roles: [...granting.get(p)!].sort() })),
      enrich_token: { request: { subject, tenant: tenant.slug }, ...enrich },
    },
  };
}

/** A user's (or a not-yet-mapped subject's) access in a tenant. A client of the tenant is explained by its own route. */
export async function explainUser(deps: ExplainDeps, ctx: MutationContext, slug: string, subject: string): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  const found = await deps.store.use(deps.access).subject(tenant.id, subject);
  if (found?.subjectType === 'client') {
    throw new NotFoundError('The subject is an OAuth client of this tenant: explain it at /clients/{client}/access.', 'user-not-found');
  }
  return explain(deps, ctx, { tenant, subject, found, action: 'user.access.read', target: `tenants/${slug}/users/${encodeURIComponent(subject)}/access` });
}

/** An OAuth client's access in its tenant (its subject is its client_id). */
export async function explainClient(deps: ExplainDeps, ctx: MutationContext, slug: string, clientId: string): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  const found = await deps.store.use(deps.access).subject(tenant.id, clientId);
  if (found?.subjectType !== 'client') throw new NotFoundError(`Client "${clientId}" does not exist in this tenant.`, 'client-not-found');
  return explain(deps, ctx, { tenant, subject: clientId, found, action: 'client.access.read', target: `tenants/${slug}/clients/${encodeURIComponent(clientId)}/access` });
}

/** Every user and client holding `permission` in the tenant, through which roles; keyset-paged by subject. */
export async function whoHas(deps: ExplainDeps, ctx: MutationContext, slug: string, asked: string, page: PageRequest): Promise<Reply> {
  const tenant = await requireTenant(deps.store, slug);
  const holders = await deps.store.use(deps.access).holders(tenant.id, asked, page);
  await auditRead(deps.store, ctx, tenant, 'permission.subjects.read', `tenants/${slug}/permissions/${encodeURIComponent(asked)}/subjects`);
  return {
    status: 200,
    body: { permission: asked, ...pageView(holders, (h) => ({ subject: h.subject, subject_type: h.subjectType, roles: h.roles })) },
  };
}

const auditRead = (store: PolicyStore, ctx: MutationContext, tenant: Tenant, action: string, target: string) =>
  store.audit.append({ actor: ctx.actor, tenantId: tenant.id, tenantSlug: tenant.slug, action, target, result: 'success', requestId: ctx.requestId });
