/**
 * The authorization matrix, generated from the route table: every admin route × every persona,
 * with the status each must get. A route added to ADMIN_ROUTES without an entry here fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Access } from '../../lib/admin/access.js';
import { ADMIN_ROUTES, type AdminOperation } from '../../lib/admin/routes.js';
import { addRole, mapSubject } from '../support/policy-fixture.js';
import { type AdminStack, PERSONAS, type Persona, startAdminStack } from '../support/admin-stack.js';

interface Case {
  /** Creates what the request needs (unique per call) and returns the request. */
  request(stack: AdminStack, tenant: 'acme' | 'globex', n: number): Promise<{ path: Record<string, string>; body?: unknown; headers?: Record<string, string> }>;
  /** Status for a caller allowed to make the request. */
  ok: number;
}

const role = async (s: AdminStack, tenant: 'acme' | 'globex', n: number) => {
  await addRole(s.db, s.tenants[tenant], `role-${n}`, ['x:read']);
  return `role-${n}`;
};
const user = async (s: AdminStack, tenant: 'acme' | 'globex', n: number) => {
  await mapSubject(s.db, s.tenants[tenant], `user-${n}`, []);
  return `user-${n}`;
};
const client = async (s: AdminStack, tenant: 'acme' | 'globex', n: number) => {
  const created = await s.call('platformAdmin', 'POST', `/tenants/${tenant}/clients`, { client_name: `matrix-${n}` });
  if (created.status !== 201) throw new Error(`setup: client create answered ${created.status}`);
  return created.json.client_id as string;
};
const ifMatch = { 'if-match': '"v1"' };

const CASES: Record<AdminOperation, Case> = {
  createTenant: { ok: 201, request: async (_s, _t, n) => ({ path: {}, body: { slug: `tenant-${n}`, name: 'New' } }) },
  listTenants: { ok: 200, request: async () => ({ path: {} }) },
  getTenant: { ok: 200, request: async (_s, t) => ({ path: { tenant: t } }) },
  updateTenant: { ok: 412, request: async (_s, t) => ({ path: { tenant: t }, body: { name: 'Renamed' }, headers: { 'if-match': '"v999"' } }) },
  deleteTenant: { ok: 404, request: async (_s, _t, n) => ({ path: { tenant: `absent-${n}` } }) },
  createRole: { ok: 201, request: async (_s, t, n) => ({ path: { tenant: t }, body: { name: `new-role-${n}`, permissions: ['a:b'] } }) },
  listRoles: { ok: 200, request: async (_s, t) => ({ path: { tenant: t } }) },
  getRole: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, role: await role(s, t, n) } }) },
  updateRole: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, role: await role(s, t, n) }, body: { description: 'd' }, headers: ifMatch }) },
  deleteRole: { ok: 204, request: async (s, t, n) => ({ path: { tenant: t, role: await role(s, t, n) } }) },
  putUser: { ok: 201, request: async (_s, t, n) => ({ path: { tenant: t, subject: `new-user-${n}` }, body: { roles: [] } }) },
  listUsers: { ok: 200, request: async (_s, t) => ({ path: { tenant: t } }) },
  getUser: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, subject: await user(s, t, n) } }) },
  deleteUser: { ok: 204, request: async (s, t, n) => ({ path: { tenant: t, subject: await user(s, t, n) } }) },
  explainUser: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, subject: await user(s, t, n) } }) },
  explainClient: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, client: await client(s, t, n) } }) },
  whoHas: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, permission: `x:${n}:*` } }) },
  createClient: { ok: 201, request: async (_s, t, n) => ({ path: { tenant: t }, body: { client_name: `new-client-${n}` } }) },
  listClients: { ok: 200, request: async (_s, t) => ({ path: { tenant: t } }) },
  getClient: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, client: await client(s, t, n) } }) },
  updateClient: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, client: await client(s, t, n) }, body: { client_name: 'renamed' }, headers: ifMatch }) },
  deleteClient: { ok: 204, request: async (s, t, n) => ({ path: { tenant: t, client: await client(s, t, n) } }) },
  rotateClientSecret: { ok: 200, request: async (s, t, n) => ({ path: { tenant: t, client: await client(s, t, n) } }) },
  listTenantAudit: { ok: 200, request: async (_s, t) => ({ path: { tenant: t } }) },
  listAudit: { ok: 200, request: async () => ({ path: {} }) },
  whoAmI: { ok: 200, request: async () => ({ path: {} }) },
};

/** What each persona gets on a route of the given access level (acting on tenant `acme`). */
function expected(persona: Persona, access: Access, ok: number): number {
  switch (persona) {
    case 'none':
    case 'bad':
    case 'expired':
    case 'wrongKey':
      return 401;
    case 'user':
      return access === 'authenticated' ? ok : 403;
    case 'otherTenantAdmin':
      return access === 'authenticated' ? ok : access === 'tenant' ? 404 : 403;
    case 'tenantAdmin':
      return access === 'platform' ? 403 : ok;
    case 'platformAdmin':
      return ok;
  }
}

const fill = (template: string, params: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));

describe('admin API authorization matrix', () => {
  let stack: AdminStack;
  let n = 0;
  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack.stop());

  it('has an entry for every route in the route table', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(ADMIN_ROUTES).sort());
  });

  const rows = (Object.keys(ADMIN_ROUTES) as AdminOperation[]).flatMap((operation) =>
    PERSONAS.map((persona) => [operation, persona] as const),
  );

  it.each(rows)('%s answers %s as the matrix says', async (operation, persona) => {
    const route = ADMIN_ROUTES[operation];
    const { path, body, headers } = await CASES[operation].request(stack, 'acme', ++n);
    const answer = await stack.call(persona, route.method, fill(route.path, path), body, headers);
    expect({ status: answer.status }).toEqual({ status: expected(persona, route.access, CASES[operation].ok) });
    if (answer.status >= 400) expect(answer.headers.get('content-type')).toBe('application/problem+json');
    if (answer.status === 401) expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('opens only GET /me to any authenticated caller', () => {
    // A route open to every valid token is a deliberate decision: adding one fails here first.
    const open = Object.entries(ADMIN_ROUTES).filter(([, route]) => route.access === 'authenticated');
    expect(open.map(([operation, route]) => `${operation} ${route.method} ${route.path}`)).toEqual(['whoAmI GET /me']);
  });

  it('audits every denied request with the actor, counted per action and minute', async () => {
    // The matrix above was denied in this minute too: this denial adds to that row's count (or opens the next minute's row).
    const denials = async () =>
      (await stack.db.query<{ count: string }>('test.audit', "SELECT coalesce(sum(count), 0)::text AS count FROM audit_log WHERE actor = 'acme-user' AND action = 'listAudit' AND result = 'denied'"))[0]!.count;
    const before = Number(await denials());
    const answer = await stack.call('user', 'GET', '/audit');
    expect(answer.status).toBe(403);
    expect(Number(await denials())).toBe(before + 1);
    const [latest] = await stack.db.query('test.audit', "SELECT actor, action, target, result FROM audit_log WHERE actor = 'acme-user' AND action = 'listAudit' ORDER BY id DESC LIMIT 1");
    expect(latest).toEqual({ actor: 'acme-user', action: 'listAudit', target: '/audit', result: 'denied' });
  });

  it('keeps the platform tenant for platform admins, even from an iam:admin of it', async () => {
    const platform = '00000000-0000-4000-8000-000000000001';
    await mapSubject(stack.db, platform, 'acme-admin', [await addRole(stack.db, platform, 'platform-tenant-admin', ['iam:admin'])]);
    const answer = await stack.call('tenantAdmin', 'POST', '/tenants/platform/roles', { name: 'escalate', permissions: ['iam:*'] });
    expect(answer.status).toBe(404);
    expect((await stack.call('platformAdmin', 'GET', '/tenants/platform/roles/escalate')).status).toBe(404);
  });
});
