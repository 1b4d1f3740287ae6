/**
 * Access explained and who-has (lib/admin/explain.ts) against the real service: explain's
 * `enrich_token` equals what a real POST /system/enrich-token answers; the wildcard rule; keyset
 * pages; the reads audited; and the hostile cases (another tenant's admin, another tenant's
 * subject, client or permission, path traversal, encoded junk).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { covers } from '../../lib/admin/explain.js';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';
import { addRole, mapSubject } from '../support/policy-fixture.js';
import { expectProblem } from '../support/problem.js';

/** Permissions held in tenant `acme` by role (role name → permissions) and who holds which role. */
const ROLES: Record<string, string[]> = {
  'acc-star': ['*'],
  'acc-inv-any': ['inv:*'],
  'acc-inv-read': ['inv:read', 'docs:read'],
  'acc-invx': ['invx:read'],
  'acc-lines': ['inv:lines:*'],
  'acc-literal': ['inv*'],
};
const HOLDERS: Record<string, string[]> = {
  'acc-u1': ['acc-star'],
  'acc-u2': ['acc-inv-any', 'acc-inv-read'],
  'acc-u3': ['acc-inv-read'],
  'acc-u4': ['acc-invx'],
  'acc-u5': ['acc-lines', 'acc-literal'],
  'acc-u6': [],
};

describe('access explained and who-has', () => {
  let stack: AdminStack;
  let machine: string;

  const enrich = async (subject: string, tenant: string) => {
    const { status, json } = await stack.enrich(subject, tenant);
    return { status, type: status === 200 ? null : (json as { type?: string }).type };
  };
  const holders = async (tenant: string, permission: string, persona: 'platformAdmin' | 'tenantAdmin' = 'tenantAdmin', limit = 100) => {
    const answer = await stack.call(persona, 'GET', `/tenants/${tenant}/permissions/${encodeURIComponent(permission)}/subjects?limit=${limit}`);
    expect(answer.status).toBe(200);
    return (answer.json.items as Array<{ subject: string; roles: string[] }>).filter((h) => h.subject.startsWith('acc-'));
  };

  beforeAll(async () => {
    stack = await startAdminStack();
    const ids: Record<string, string> = {};
    for (const [name, permissions] of Object.entries(ROLES)) ids[name] = await addRole(stack.db, stack.tenants.acme, name, permissions);
    for (const [subject, roles] of Object.entries(HOLDERS)) await mapSubject(stack.db, stack.tenants.acme, subject, roles.map((r) => ids[r]!));
    // A subject in two tenants, and a suspended tenant.
    await mapSubject(stack.db, stack.tenants.globex, 'acc-u2', [await addRole(stack.db, stack.tenants.globex, 'acc-g', ['globex:read'])]);
    expect((await stack.call('platformAdmin', 'POST', '/tenants', { slug: 'acc-frozen', name: 'Frozen', status: 'suspended' })).status).toBe(201);
    expect((await stack.call('platformAdmin', 'POST', '/tenants/acc-frozen/roles', { name: 'r', permissions: ['inv:read'] })).status).toBe(201);
    expect((await stack.call('platformAdmin', 'PUT', '/tenants/acc-frozen/users/acc-u3', { roles: ['r'] })).status).toBe(201);
    const created = await stack.call('tenantAdmin', 'POST', '/tenants/acme/clients', { client_name: 'acc machine', roles: ['acc-inv-read'] });
    expect(created.status).toBe(201);
    machine = created.json.client_id;
  });
  afterAll(() => stack?.stop());

  describe('explain', () => {
    it('lists the roles, each permission with the roles granting it, the subject type and the tenant status', async () => {
      const answer = await stack.call('tenantAdmin', 'GET', '/tenants/acme/users/acc-u2/access');
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        tenant: 'acme',
        tenant_status: 'active',
        subject: 'acc-u2',
        subject_type: 'user',
        roles: [
          { name: 'acc-inv-any', permissions: ['inv:*'] },
          { name: 'acc-inv-read', permissions: ['docs:read', 'inv:read'] },
        ],
        permissions: [
          { permission: 'docs:read', roles: ['acc-inv-read'] },
          { permission: 'inv:*', roles: ['acc-inv-any'] },
          { permission: 'inv:read', roles: ['acc-inv-read'] },
        ],
        enrich_token: { request: { subject: 'acc-u2', tenant: 'acme' }, status: 200, type: null },
      });
    });

    // Each case: the route, the subject and tenant, and what a real enrich-token call answers.
    it.each([
      ['a mapped user', 'users', 'acc-u2', 'acme', 200],
      ['a user mapped to no role', 'users', 'acc-u6', 'acme', 200],
      ['an unmapped subject', 'users', 'acc-never-mapped', 'acme', 404],
      ['a subject of another tenant only', 'users', 'acc-u4', 'globex', 404],
      ['a subject in two tenants, in the second', 'users', 'acc-u2', 'globex', 200],
      ['a subject of a suspended tenant', 'users', 'acc-u3', 'acc-frozen', 403],
      ['an OAuth client', 'clients', 'MACHINE', 'acme', 200],
    ] as const)('gives enrich-token’s own answer for %s', async (_name, kind, who, tenant, status) => {
      const subject = who === 'MACHINE' ? machine : who;
      const answer = await stack.call('platformAdmin', 'GET', `/tenants/${tenant}/${kind}/${encodeURIComponent(subject)}/access`);
      expect(answer.status).toBe(200);
      const real = await enrich(subject, tenant);
      expect(real.status).toBe(status);
      expect(answer.json.enrich_token).toEqual({ request: { subject, tenant }, ...real });
    });

    it('names the problem enrich-token refuses with: tenant-suspended, subject-not-found', async () => {
      const frozen = await stack.call('platformAdmin', 'GET', '/tenants/acc-frozen/users/acc-u3/access');
      expect(frozen.json).toMatchObject({ tenant_status: 'suspended', roles: [{ name: 'r' }], enrich_token: { status: 403, type: 'urn:citadel:iam:problem:tenant-suspended' } });
      const unmapped = await stack.call('tenantAdmin', 'GET', '/tenants/acme/users/acc-never-mapped/access');
      expect(unmapped.json).toMatchObject({ subject_type: null, roles: [], permissions: [], enrich_token: { status: 404, type: 'urn:citadel:iam:problem:subject-not-found' } });
    });

    it('explains a client by its own route, and not as a user', async () => {
      const answer = await stack.call('tenantAdmin', 'GET', `/tenants/acme/clients/${encodeURIComponent(machine)}/access`);
      expect(answer.json).toMatchObject({ subject_type: 'client', roles: [{ name: 'acc-inv-read' }] });
      expectProblem(await stack.call('tenantAdmin', 'GET', `/tenants/acme/users/${encodeURIComponent(machine)}/access`), 404);
      expectProblem(await stack.call('tenantAdmin', 'GET', '/tenants/acme/clients/acc-u2/access'), 404);
    });
  });

  describe('who has a permission', () => {
    it('matches wildcards as the README states', async () => {
      const table: Array<[string, string[]]> = [
        ['inv:read', ['acc-u1 acc-star', 'acc-u2 acc-inv-any,acc-inv-read', 'acc-u3 acc-inv-read']],
        ['inv:*', ['acc-u1 acc-star', 'acc-u2 acc-inv-any']],
        ['inv:lines:write', ['acc-u1 acc-star', 'acc-u2 acc-inv-any', 'acc-u5 acc-lines']],
        ['invx:read', ['acc-u1 acc-star', 'acc-u4 acc-invx']],
        ['inv*', ['acc-u1 acc-star', 'acc-u5 acc-literal']],
        ['*', ['acc-u1 acc-star']],
        ['docs:write', ['acc-u1 acc-star']],
      ];
      for (const [permission, expected] of table) {
        const found = (await holders('acme', permission)).map((h) => `${h.subject} ${h.roles.join(',')}`);
        expect({ permission, found }).toEqual({ permission, found: expected });
      }
    });

    it('agrees with the rule as code (covers) for every role and asked permission of the fixture', async () => {
      const asked = ['inv:read', 'inv:*', 'inv:', 'inv', 'inv:lines:*', 'inv:lines:x', 'invx:read', 'inv*', '*', 'docs:read', 'docs:*', 'x:y'];
      for (const permission of asked) {
        const expected = Object.entries(HOLDERS)
          .map(([subject, roles]) => [subject, roles.filter((r) => ROLES[r]!.some((g) => covers(g, permission)))] as const)
          .filter(([, roles]) => roles.length > 0)
          .map(([subject, roles]) => `${subject} ${[...roles].sort().join(',')}`);
        const found = (await holders('acme', permission)).filter((h) => h.subject in HOLDERS).map((h) => `${h.subject} ${h.roles.join(',')}`);
        expect({ permission, found }).toEqual({ permission, found: expected });
      }
    });

    it('lists users and clients, in keyset pages that together hold each holder once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const answer: { status: number; json: any } = await stack.call('tenantAdmin', 'GET', `/tenants/acme/permissions/inv%3Aread/subjects?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(answer.status).toBe(200);
        expect(answer.json.items.length).toBeLessThanOrEqual(2);
        seen.push(...answer.json.items.map((h: { subject: string }) => h.subject));
        cursor = answer.json.next_cursor;
        pages += 1;
      } while (cursor !== null && pages < 10);
      expect(seen).toEqual([...new Set(seen)].sort());
      expect(seen).toEqual(expect.arrayContaining(['acc-u1', 'acc-u2', 'acc-u3', machine]));
      expect(pages).toBeGreaterThan(1);
      const all = await stack.call('tenantAdmin', 'GET', '/tenants/acme/permissions/inv%3Aread/subjects');
      expect(all.json.items.find((h: { subject: string }) => h.subject === machine)).toEqual({ subject: machine, subject_type: 'client', roles: ['acc-inv-read'] });
    });

    it('refuses a malformed permission with a problem naming the path', async () => {
      for (const junk of ['inv%20read', '%00', '..%2F..%2Faudit', '.%2E.', `${'x'.repeat(129)}`, '%E2%80%AEinv', '%FF', ':read', '*%0A']) {
        const answer = await stack.call('tenantAdmin', 'GET', `/tenants/acme/permissions/${junk}/subjects`);
        expect({ junk, status: answer.status, type: answer.headers.get('content-type') }).toEqual({ junk, status: 400, type: 'application/problem+json' });
        // `%FF` is no UTF-8: refused before any function runs, for the whole path.
        if (junk !== '%FF') expect({ junk, errors: answer.json.errors }).toEqual({ junk, errors: [expect.objectContaining({ path: 'permission' })] });
      }
      // `%2E%2E` is a dot segment to the URL parser: the request reaches no route at all.
      expectProblem(await stack.call('tenantAdmin', 'GET', '/tenants/acme/permissions/%2E%2E/subjects'), 404);
    });
  });

  it('audits each read with its actor, tenant and target', async () => {
    const mark = (await stack.db.query<{ id: string }>('test.audit_max', 'SELECT coalesce(max(id), 0)::text AS id FROM audit_log'))[0]!.id;
    await stack.call('tenantAdmin', 'GET', '/tenants/acme/users/acc-u2/access');
    await stack.call('tenantAdmin', 'GET', `/tenants/acme/clients/${encodeURIComponent(machine)}/access`);
    await stack.call('tenantAdmin', 'GET', '/tenants/acme/permissions/inv%3A%2A/subjects');
    const rows = await stack.db.query('test.audit', 'SELECT actor, tenant_slug, action, target, result FROM audit_log WHERE id > $1::bigint ORDER BY id', [mark]);
    expect(rows).toEqual([
      { actor: 'acme-admin', tenant_slug: 'acme', action: 'user.access.read', target: 'tenants/acme/users/acc-u2/access', result: 'success' },
      { actor: 'acme-admin', tenant_slug: 'acme', action: 'client.access.read', target: `tenants/acme/clients/${encodeURIComponent(machine)}/access`, result: 'success' },
      { actor: 'acme-admin', tenant_slug: 'acme', action: 'permission.subjects.read', target: 'tenants/acme/permissions/inv%3A*/subjects', result: 'success' },
    ]);
  });

  describe('across tenants', () => {
    it('answers another tenant’s admin 404, as for a tenant that does not exist', async () => {
      for (const path of ['/tenants/acme/users/acc-u2/access', `/tenants/acme/clients/${encodeURIComponent(machine)}/access`, '/tenants/acme/permissions/inv%3Aread/subjects']) {
        const foreign = await stack.call('otherTenantAdmin', 'GET', path);
        const missing = await stack.call('otherTenantAdmin', 'GET', path.replace('/acme/', '/no-such-tenant/'));
        expectProblem(foreign, 404);
        expect([foreign.json.type, foreign.json.detail.replace('acme', 'X')]).toEqual([missing.json.type, missing.json.detail.replace('no-such-tenant', 'X')]);
      }
    });

    it('tells nothing of another tenant’s subject, client or permission on its own tenant’s path', async () => {
      // acc-g and globex:read exist only in globex; acc-u2 is in both, so its acme answer holds acme's roles only.
      const foreignSubject = await stack.call('otherTenantAdmin', 'GET', '/tenants/globex/users/acc-u3/access');
      const neverSeen = await stack.call('otherTenantAdmin', 'GET', '/tenants/globex/users/acc-nobody/access');
      expect({ ...foreignSubject.json, subject: 'X', enrich_token: { ...foreignSubject.json.enrich_token, request: null } }).toEqual({
        ...neverSeen.json,
        subject: 'X',
        enrich_token: { ...neverSeen.json.enrich_token, request: null },
      });
      const inBoth = await stack.call('otherTenantAdmin', 'GET', '/tenants/globex/users/acc-u2/access');
      expect(inBoth.json.roles).toEqual([{ name: 'acc-g', permissions: ['globex:read'] }]);
      expectProblem(await stack.call('otherTenantAdmin', 'GET', `/tenants/globex/clients/${encodeURIComponent(machine)}/access`), 404);
      expect(await holders('globex', 'inv:read', 'platformAdmin')).toEqual([]);
      expect((await holders('acme', 'globex:read')).map((h) => h.subject)).toEqual(['acc-u1']);
    });

    it('refuses path traversal and encoded junk in the tenant, subject and client with a problem', async () => {
      // A tenant admin meets authorization first (a tenant it does not administer is 404); a platform admin, validation.
      const cases = [
        ['tenantAdmin', '/tenants/..%2Fglobex/users/acc-u2/access', 404],
        ['platformAdmin', '/tenants/..%2Fglobex/users/acc-u2/access', 400],
        ['platformAdmin', '/tenants/ACME/permissions/inv%3Aread/subjects', 400],
        ['tenantAdmin', '/tenants/acme/users/%00/access', 400],
        ['tenantAdmin', '/tenants/acme/users/%E2%80%AE/access', 400],
        ['tenantAdmin', '/tenants/acme/clients/a%2Fb/access', 400],
        ['tenantAdmin', '/tenants/acme/clients/%C0%AE/access', 400],
      ] as const;
      for (const [persona, path, status] of cases) {
        const answer = await stack.call(persona, 'GET', path);
        expect({ path, status: answer.status, type: answer.headers.get('content-type') }).toEqual({ path, status, type: 'application/problem+json' });
      }
    });
  });
});
