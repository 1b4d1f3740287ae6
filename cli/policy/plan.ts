/**
 * The plan: what apply must send to make the API hold what the file says. Only the tenants the
 * file names are compared; inside a tenant, only the sections it has (`roles`, `users`,
 * `clients`); deletes only with --prune. Changes come in apply's order: tenants, roles, mappings,
 * clients, then the deletes in reverse (clients, mappings, roles).
 */
import { createHash } from 'node:crypto';
import { seg } from './admin-api.js';
import type { LiveClient, LiveTenant } from './live-state.js';
import { byCodeUnit, CLIENT_FIELDS, type ClientSpec, type PolicyDocument, sortedKeys, sortedSet, type TenantSpec } from './model.js';

export type Kind = 'tenant' | 'role' | 'user' | 'client';
export type Op = 'create' | 'update' | 'delete';

/** One field of an update: before → after (lists show what is added and removed). */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface Change {
  op: Op;
  kind: Kind;
  tenant: string;
  /** The resource's name in its tenant (slug, role name, subject, client_id or client_name). */
  name: string;
  fields: FieldChange[];
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  /** For updates and deletes: the resource's own URL, whose ETag goes into If-Match. */
  resource?: string;
  /** Set by the plan's ETag read. */
  etag?: string;
  /** Derived from the change itself: the same change gets the same key on a re-run. */
  idempotencyKey: string;
}

export interface Plan {
  changes: Change[];
  /** Resources the API has and the file does not, left alone without --prune. */
  kept: Array<{ kind: Kind; tenant: string; name: string }>;
}

const ORDER: Record<Op, Kind[]> = { create: ['tenant', 'role', 'user', 'client'], update: ['tenant', 'role', 'user', 'client'], delete: ['client', 'user', 'role', 'tenant'] };

export function diff(file: PolicyDocument, live: Record<string, LiveTenant | undefined>, prune: boolean): Plan {
  const changes: Change[] = [];
  const kept: Plan['kept'] = [];
  for (const slug of sortedKeys(file.tenants)) diffTenant(slug, file.tenants[slug]!, live[slug], prune, changes, kept);
  // Creates and updates by kind (a mapping needs its role first), deletes after them in reverse.
  const rank = (c: Change) => (c.op === 'delete' ? 10 + ORDER.delete.indexOf(c.kind) : ORDER.create.indexOf(c.kind));
  changes.sort((a, b) => rank(a) - rank(b));
  return { changes, kept };
}

function change(c: Omit<Change, 'idempotencyKey'>): Change {
  const digest = createHash('sha256').update(JSON.stringify([c.op, c.kind, c.tenant, c.name, c.method, c.path, c.body ?? null])).digest('base64url');
  return { ...c, idempotencyKey: `iam-policy-${digest.slice(0, 32)}` };
}

const sameSet = (a: readonly string[], b: readonly string[]) => JSON.stringify(sortedSet(a)) === JSON.stringify(sortedSet(b));

function diffTenant(slug: string, want: TenantSpec, have: LiveTenant | undefined, prune: boolean, changes: Change[], kept: Plan['kept']): void {
  const base = `/tenants/${seg(slug)}`;
  if (!have) {
    changes.push(change({ op: 'create', kind: 'tenant', tenant: slug, name: slug, fields: [], method: 'POST', path: '/tenants', body: { slug, name: want.name, ...(want.status ? { status: want.status } : {}) } }));
  } else {
    const fields: FieldChange[] = [];
    if (want.name !== have.name) fields.push({ field: 'name', before: have.name, after: want.name });
    if (want.status !== undefined && want.status !== have.status) fields.push({ field: 'status', before: have.status, after: want.status });
    if (fields.length > 0) {
      changes.push(change({ op: 'update', kind: 'tenant', tenant: slug, name: slug, fields, method: 'PATCH', path: base, resource: base, body: Object.fromEntries(fields.map((f) => [f.field, f.after])) }));
    }
  }
  const empty: LiveTenant = { slug, name: want.name, status: 'active', roles: {}, users: {}, clients: [] };
  const current = have ?? empty;
  if (want.roles) diffRoles(slug, want.roles, current, prune, changes, kept);
  if (want.users) diffUsers(slug, want.users, current, prune, changes, kept);
  if (want.clients) diffClients(slug, want.clients, current, prune, changes, kept);
}

function diffRoles(slug: string, want: NonNullable<TenantSpec['roles']>, have: LiveTenant, prune: boolean, changes: Change[], kept: Plan['kept']): void {
  const base = `/tenants/${seg(slug)}/roles`;
  for (const name of sortedKeys(want)) {
    const role = want[name]!;
    const existing = have.roles[name];
    if (!existing) {
      const body = { name, ...(role.description !== undefined ? { description: role.description } : {}), permissions: sortedSet(role.permissions) };
      changes.push(change({ op: 'create', kind: 'role', tenant: slug, name, fields: [], method: 'POST', path: base, body }));
      continue;
    }
    const fields: FieldChange[] = [];
    if (role.description !== undefined && role.description !== existing.description) fields.push({ field: 'description', before: existing.description, after: role.description });
    if (!sameSet(role.permissions, existing.permissions)) fields.push({ field: 'permissions', before: existing.permissions, after: sortedSet(role.permissions) });
    if (fields.length > 0) {
      const url = `${base}/${seg(name)}`;
      changes.push(change({ op: 'update', kind: 'role', tenant: slug, name, fields, method: 'PATCH', path: url, resource: url, body: Object.fromEntries(fields.map((f) => [f.field, f.after])) }));
    }
  }
  for (const name of sortedKeys(have.roles).filter((n) => !(n in want))) removed(slug, 'role', name, `${base}/${seg(name)}`, prune, changes, kept);
}

function diffUsers(slug: string, want: Record<string, string[]>, have: LiveTenant, prune: boolean, changes: Change[], kept: Plan['kept']): void {
  const base = `/tenants/${seg(slug)}/users`;
  for (const subject of sortedKeys(want)) {
    const roles = sortedSet(want[subject]!);
    const existing = have.users[subject];
    const url = `${base}/${seg(subject)}`;
    if (!existing) {
      changes.push(change({ op: 'create', kind: 'user', tenant: slug, name: subject, fields: [], method: 'PUT', path: url, body: { roles } }));
    } else if (!sameSet(roles, existing)) {
      changes.push(change({ op: 'update', kind: 'user', tenant: slug, name: subject, fields: [{ field: 'roles', before: existing, after: roles }], method: 'PUT', path: url, resource: url, body: { roles } }));
    }
  }
  for (const subject of sortedKeys(have.users).filter((s) => !(s in want))) removed(slug, 'user', subject, `${base}/${seg(subject)}`, prune, changes, kept);
}

/**
 * Clients are matched by client_id; one without it by client_name among the live clients not
 * matched otherwise (so a client created by an earlier apply is found again).
 */
function diffClients(slug: string, want: ClientSpec[], have: LiveTenant, prune: boolean, changes: Change[], kept: Plan['kept']): void {
  const base = `/tenants/${seg(slug)}/clients`;
  const unmatched = new Map(have.clients.map((c) => [c.client_id, c]));
  const matches: Array<[ClientSpec, LiveClient | undefined]> = [];
  for (const spec of want.filter((c) => c.client_id !== undefined)) {
    matches.push([spec, unmatched.get(spec.client_id!)]);
    unmatched.delete(spec.client_id!);
  }
  for (const spec of want.filter((c) => c.client_id === undefined)) {
    const found = [...unmatched.values()].filter((c) => c.client_name === spec.client_name).sort((a, b) => byCodeUnit(a.client_id, b.client_id))[0];
    if (found) unmatched.delete(found.client_id);
    matches.push([spec, found]);
  }
  for (const [spec, existing] of matches) {
    if (!existing) {
      const { client_id: _, ...metadata } = spec;
      if (spec.client_id !== undefined) {
        // A client_id the API does not have cannot be created under that id (the IdP issues ids).
        changes.push(change({ op: 'create', kind: 'client', tenant: slug, name: spec.client_name, fields: [{ field: 'client_id', before: spec.client_id, after: '(a new one from the IdP)' }], method: 'POST', path: base, body: metadata }));
      } else {
        changes.push(change({ op: 'create', kind: 'client', tenant: slug, name: spec.client_name, fields: [], method: 'POST', path: base, body: metadata }));
      }
      continue;
    }
    const fields: FieldChange[] = [];
    for (const field of CLIENT_FIELDS) {
      const after = spec[field];
      if (after === undefined) continue;
      const before = existing[field];
      const differs = Array.isArray(after) ? !sameSet(after, before as string[]) : after !== before;
      if (differs) fields.push({ field, before, after: Array.isArray(after) ? sortedSet(after) : after });
    }
    if (fields.length > 0) {
      const url = `${base}/${seg(existing.client_id)}`;
      changes.push(change({ op: 'update', kind: 'client', tenant: slug, name: existing.client_id, fields, method: 'PATCH', path: url, resource: url, body: Object.fromEntries(fields.map((f) => [f.field, f.after])) }));
    }
  }
  for (const client of [...unmatched.values()].sort((a, b) => byCodeUnit(a.client_id, b.client_id))) {
    removed(slug, 'client', client.client_id, `${base}/${seg(client.client_id)}`, prune, changes, kept);
  }
}

function removed(tenant: string, kind: Kind, name: string, url: string, prune: boolean, changes: Change[], kept: Plan['kept']): void {
  if (prune) changes.push(change({ op: 'delete', kind, tenant, name, fields: [], method: 'DELETE', path: url, resource: url }));
  else kept.push({ kind, tenant, name });
}
