/**
 * Admin API behaviours beyond authorization: keyset pagination, Idempotency-Key, If-Match and
 * ETags, strict bodies, suspension and role deletion as enrich-token sees them, and the
 * transactional pair every mutation writes (one CloudEvent in the outbox, one audit row).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AdminStack, ENRICH_KEY, startAdminStack } from '../support/admin-stack.js';
import { BOOTSTRAP_ADMIN } from '../support/test-database.js';
import { expectProblem } from '../support/problem.js';
import { changes, type OutboxRow } from '../support/changes.js';

type Answer = Awaited<ReturnType<AdminStack['call']>>;


/** Every key anywhere in a JSON value. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

describe('admin API behaviours', () => {
  let stack: AdminStack;
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => stack.call('platformAdmin', method, path, body, headers);

  const enrich = (subject: string, tenant: string) => stack.enrich(subject, tenant);

  async function tenantWith(slug: string, roles: Record<string, string[]>, users: Record<string, string[]> = {}): Promise<void> {
    expect((await admin('POST', '/tenants', { slug, name: slug })).status).toBe(201);
    for (const [name, permissions] of Object.entries(roles)) {
      expect((await admin('POST', `/tenants/${slug}/roles`, { name, permissions })).status).toBe(201);
    }
    for (const [subject, userRoles] of Object.entries(users)) {
      expect((await admin('PUT', `/tenants/${slug}/users/${subject}`, { roles: userRoles })).status).toBe(201);
    }
  }

  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack?.stop());

  describe('keyset pagination', () => {
    const names = ['page-role-1', 'page-role-2', 'page-role-3', 'page-role-4', 'page-role-5'];

    beforeAll(() => tenantWith('paging', Object.fromEntries(names.map((n) => [n, ['x:read']]))));

    it('walks the roles two at a time through next_cursor with no duplicate and no gap', async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const answer: Answer = await admin('GET', `/tenants/paging/roles?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(answer.status).toBe(200);
        sizes.push(answer.json.items.length);
        seen.push(...answer.json.items.map((r: { name: string }) => r.name));
        cursor = answer.json.next_cursor;
      } while (cursor !== null && sizes.length < 10);
      const all = await admin('GET', '/tenants/paging/roles?limit=100');
      expect(all.json.next_cursor).toBeNull();
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(all.json.items.map((r: { name: string }) => r.name));
      expect([...seen].sort()).toEqual(names);
    });

    it('ends with a null next_cursor when the last page is exactly full', async () => {
      const first = await admin('GET', '/tenants/paging/roles?limit=5');
      expect(first.json.items).toHaveLength(5);
      expect(first.json.next_cursor).toBeNull();
    });

    it('walks the tenants one at a time and meets each exactly once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const answer: Answer = await admin('GET', `/tenants?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        seen.push(...answer.json.items.map((t: { slug: string }) => t.slug));
        cursor = answer.json.next_cursor;
      } while (cursor !== null && seen.length < 100);
      const all = await admin('GET', '/tenants?limit=100');
      expect(seen).toEqual(all.json.items.map((t: { slug: string }) => t.slug));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it.each([
      ['garbage', 'not-a-cursor!'],
      ['base64url of a non-object', Buffer.from('[1,2]').toString('base64url')],
      ['a cursor whose key is not a string', Buffer.from(JSON.stringify({ k: 1 })).toString('base64url')],
      ['an over-long cursor', 'A'.repeat(600)],
    ])('refuses %s as a cursor with 400', async (_name, cursor) => {
      expectProblem(await admin('GET', `/tenants/paging/roles?cursor=${encodeURIComponent(cursor)}`), 400);
    });

    it('refuses a forged cursor whose key holds a NUL byte with 400, not a 5xx', async () => {
      const cursor = Buffer.from(JSON.stringify({ k: 'page\u0000' })).toString('base64url');
      expectProblem(await admin('GET', `/tenants/paging/roles?cursor=${cursor}`), 400);
      expectProblem(await admin('GET', `/tenants?cursor=${cursor}`), 400);
    });

    it('refuses an audit cursor that is not an audit position', async () => {
      expectProblem(await admin('GET', `/audit?cursor=${Buffer.from(JSON.stringify({ k: 'page-role-1' })).toString('base64url')}`), 400);
    });

    it.each(['0', '101', 'abc', '-1', '1.5', '', '1e2', '9999'])('refuses limit=%s with 400', async (limit) => {
      expectProblem(await admin('GET', `/tenants/paging/roles?limit=${limit}`), 400);
    });

    it('refuses an unknown query parameter with 400 naming it', async () => {
      const answer = await admin('GET', '/tenants/paging/roles?limit=2&sort=name');
      expectProblem(answer, 400);
      expect(answer.json.detail).toContain('sort');
    });
  });

  describe('Idempotency-Key', () => {
    const body = { name: 'idem-role', permissions: ['docs:read'] };

    it('replays the first answer with idempotent-replayed: true and creates nothing twice', async () => {
      const { result, events, audit } = await changes(stack.db, async () => {
        const first = await admin('POST', '/tenants/acme/roles', body, { 'idempotency-key': 'idem-create-1' });
        const replay = await admin('POST', '/tenants/acme/roles', body, { 'idempotency-key': 'idem-create-1' });
        return { first, replay };
      });
      expect(result.first.status).toBe(201);
      expect(result.first.headers.get('idempotent-replayed')).toBeNull();
      expect({ status: result.replay.status, json: result.replay.json }).toEqual({ status: 201, json: result.first.json });
      expect(result.replay.headers.get('idempotent-replayed')).toBe('true');
      const rows = await stack.db.query('test.roles', "SELECT id FROM roles WHERE tenant_id = $1 AND name = 'idem-role'", [stack.tenants.acme]);
      expect(rows).toHaveLength(1);
      expect(events.map((e) => e.subject)).toEqual(['citadel.iam.role.created']);
      expect(audit.map((a) => a.request_id)).toEqual([result.first.headers.get('x-request-id')]);
    });

    it('refuses the same key with a different body with 422 and creates nothing', async () => {
      const { result, events, audit } = await changes(stack.db, () =>
        admin('POST', '/tenants/acme/roles', { name: 'idem-role-other', permissions: [] }, { 'idempotency-key': 'idem-create-1' }),
      );
      expectProblem(result, 422);
      expect((await admin('GET', '/tenants/acme/roles/idem-role-other')).status).toBe(404);
      expect({ events, audit }).toEqual({ events: [], audit: [] });
    });

    it("scopes keys per caller: another admin's request with the same key is its own", async () => {
      const answer = await stack.call('tenantAdmin', 'POST', '/tenants/acme/roles', { name: 'idem-role-by-tenant-admin', permissions: [] }, { 'idempotency-key': 'idem-create-1' });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('idempotent-replayed')).toBeNull();
      expect(answer.json.name).toBe('idem-role-by-tenant-admin');
      const replay = await admin('POST', '/tenants/acme/roles', body, { 'idempotency-key': 'idem-create-1' });
      expect([replay.status, replay.json.name, replay.headers.get('idempotent-replayed')]).toEqual([201, 'idem-role', 'true']);
    });

    it('replays a tenant creation too', async () => {
      const tenant = { slug: 'idem-tenant', name: 'Idem' };
      const first = await admin('POST', '/tenants', tenant, { 'idempotency-key': 'idem-tenant-1' });
      const replay = await admin('POST', '/tenants', tenant, { 'idempotency-key': 'idem-tenant-1' });
      expect(first.status).toBe(201);
      expect({ status: replay.status, json: replay.json, replayed: replay.headers.get('idempotent-replayed') }).toEqual({ status: 201, json: first.json, replayed: 'true' });
    });

    it('turns concurrent creates with one key into one creation and replays', async () => {
      const body = { name: 'idem-concurrent', permissions: ['docs:read'] };
      const { result, events, audit } = await changes(stack.db, () =>
        Promise.all(Array.from({ length: 8 }, () => admin('POST', '/tenants/acme/roles', body, { 'idempotency-key': 'idem-concurrent-1' }))),
      );
      expect(result.map((a) => a.status)).toEqual(Array(8).fill(201));
      expect(result.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
      expect(new Set(result.map((a) => a.json.id)).size).toBe(1);
      expect([events.length, audit.length]).toEqual([1, 1]);
    });

    it.each([
      ['longer than 255 characters', 'k'.repeat(256)],
      ['with a space', 'two words'],
    ])('refuses a key %s with 400', async (_name, key) => {
      expectProblem(await admin('POST', '/tenants/acme/roles', { name: 'idem-bad-key', permissions: [] }, { 'idempotency-key': key }), 400);
    });
  });

  describe('If-Match and ETag', () => {
    beforeAll(() => tenantWith('versioned', { editor: ['docs:write'] }));

    it('versions a role: 428 without If-Match, 412 when stale, 200 and the next ETag when current', async () => {
      const read = await admin('GET', '/tenants/versioned/roles/editor');
      expect(read.headers.get('etag')).toBe('"v1"');

      expectProblem(await admin('PATCH', '/tenants/versioned/roles/editor', { description: 'no precondition' }), 428);
      expectProblem(await admin('PATCH', '/tenants/versioned/roles/editor', { description: 'stale' }, { 'if-match': '"v2"' }), 412);
      expect((await admin('GET', '/tenants/versioned/roles/editor')).json).toEqual(read.json);

      const updated = await admin('PATCH', '/tenants/versioned/roles/editor', { description: 'current' }, { 'if-match': '"v1"' });
      expect(updated.status).toBe(200);
      expect(updated.headers.get('etag')).toBe('"v2"');
      expect(updated.json.description).toBe('current');

      expectProblem(await admin('PATCH', '/tenants/versioned/roles/editor', { description: 'lost update' }, { 'if-match': '"v1"' }), 412);
      const reread = await admin('GET', '/tenants/versioned/roles/editor');
      expect([reread.headers.get('etag'), reread.json.description]).toEqual(['"v2"', 'current']);
    });

    it.each([
      ['role', '/tenants/versioned/roles/racer', { description: 'mine' }],
      ['tenant', '/tenants/racing', { name: 'Mine' }],
    ])('lets exactly one of many concurrent PATCHes of a %s carrying the same If-Match win', async (kind, path, change) => {
      if (kind === 'role') expect((await admin('POST', '/tenants/versioned/roles', { name: 'racer', permissions: [] })).status).toBe(201);
      else expect((await admin('POST', '/tenants', { slug: 'racing', name: 'Racing' })).status).toBe(201);
      const answers = await Promise.all(Array.from({ length: 12 }, () => admin('PATCH', path, change, { 'if-match': '"v1"' })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, ...Array(11).fill(412)]);
      expect((await admin('GET', path)).headers.get('etag')).toBe('"v2"');
    });

    it('matches an If-Match list when any of its ETags is current, and * when the resource exists', async () => {
      expect((await admin('POST', '/tenants/versioned/roles', { name: 'listed', permissions: [] })).status).toBe(201);
      const path = '/tenants/versioned/roles/listed';
      expectProblem(await admin('PATCH', path, { description: 'a' }, { 'if-match': '"v7", "v8"' }), 412);
      expect((await admin('PATCH', path, { description: 'a' }, { 'if-match': '"v0", "v1"' })).status).toBe(200);
      expect((await admin('PATCH', path, { description: 'b' }, { 'if-match': '*' })).headers.get('etag')).toBe('"v3"');
      expectProblem(await admin('PATCH', '/tenants/versioned/roles/absent', { description: 'c' }, { 'if-match': '*' }), 404);
    });

    it('versions a tenant the same way', async () => {
      expect((await admin('GET', '/tenants/versioned')).headers.get('etag')).toBe('"v1"');
      expectProblem(await admin('PATCH', '/tenants/versioned', { name: 'Renamed' }), 428);
      expectProblem(await admin('PATCH', '/tenants/versioned', { name: 'Renamed' }, { 'if-match': '"v7"' }), 412);
      const updated = await admin('PATCH', '/tenants/versioned', { name: 'Renamed' }, { 'if-match': '"v1"' });
      expect([updated.status, updated.headers.get('etag'), updated.json.name]).toEqual([200, '"v2"', 'Renamed']);
    });
  });

  describe('strict bodies (no mass assignment)', () => {
    beforeAll(() => tenantWith('strict', { clerk: ['docs:read'] }, { 'strict-user': ['clerk'] }));

    it.each([
      ['id', '00000000-0000-4000-8000-00000000dead'],
      ['slug', 'renamed-slug'],
      ['created_at', '2000-01-01T00:00:00.000Z'],
      ['updated_at', '2000-01-01T00:00:00.000Z'],
      ['tenant', 'globex'],
      ['version', 99],
    ])('refuses %s in a tenant PATCH and leaves the tenant as it was', async (field, value) => {
      const before = await admin('GET', '/tenants/strict');
      const answer = await admin('PATCH', '/tenants/strict', { name: 'Changed', [field]: value }, { 'if-match': before.headers.get('etag')! });
      expectProblem(answer, 400);
      expect(answer.json.detail).toContain(field);
      const after = await admin('GET', '/tenants/strict');
      expect([after.json, after.headers.get('etag')]).toEqual([before.json, before.headers.get('etag')]);
    });

    it.each([
      ['name', 'renamed'],
      ['id', '00000000-0000-4000-8000-00000000dead'],
      ['tenant', 'globex'],
      ['created_at', '2000-01-01T00:00:00.000Z'],
    ])('refuses %s in a role PATCH and leaves the role as it was', async (field, value) => {
      const before = await admin('GET', '/tenants/strict/roles/clerk');
      const answer = await admin('PATCH', '/tenants/strict/roles/clerk', { description: 'x', [field]: value }, { 'if-match': before.headers.get('etag')! });
      expectProblem(answer, 400);
      expect(answer.json.detail).toContain(field);
      expect((await admin('GET', '/tenants/strict/roles/clerk')).json).toEqual(before.json);
    });

    it.each([
      ['a tenant create with an id', '/tenants', 'POST', { slug: 'strict-new', name: 'N', id: '00000000-0000-4000-8000-00000000dead' }],
      ['a role create with a tenant', '/tenants/strict/roles', 'POST', { name: 'smuggled', permissions: [], tenant: 'globex' }],
      ['a role create with an id', '/tenants/strict/roles', 'POST', { name: 'smuggled', permissions: [], id: '00000000-0000-4000-8000-00000000dead' }],
      ['a user PUT with a subject type', '/tenants/strict/users/strict-user', 'PUT', { roles: [], subject_type: 'client' }],
      ['a user PUT with a tenant', '/tenants/strict/users/strict-user', 'PUT', { roles: [], tenant: 'globex' }],
    ])('refuses %s with 400 and changes nothing', async (_name, path, method, body) => {
      const { result, events, audit } = await changes(stack.db, () => admin(method, path, body));
      expectProblem(result, 400);
      expect({ events, audit }).toEqual({ events: [], audit: [] });
    });
  });

  describe('text the database cannot store', () => {
    it.each([
      ['a role create', 'POST', '/tenants/acme/roles', { name: 'nul-role', description: 'before\u0000after', permissions: [] }, {}],
      ['a role update', 'PATCH', '/tenants/acme/roles/viewer', { description: 'before\u0000after' }, { 'if-match': '*' }],
    ] as const)('refuses a NUL character in the description of %s with 400 and changes nothing', async (_name, method, path, body, headers) => {
      const { result, events, audit } = await changes(stack.db, () => admin(method, path, body, headers));
      expectProblem(result, 400);
      expect({ events, audit }).toEqual({ events: [], audit: [] });
    });
  });

  describe('as enrich-token sees it', () => {
    it('answers 403 for the subjects of a suspended tenant at once, and 200 again on resume', async () => {
      await tenantWith('suspendable', { member: ['docs:read', 'docs:comment'] }, { 'susp-user': ['member'] });
      const active = await enrich('susp-user', 'suspendable');
      expect(active).toMatchObject({ status: 200, json: { roles: ['member'], permissions: ['docs:comment', 'docs:read'] } });

      const suspended = await admin('PATCH', '/tenants/suspendable', { status: 'suspended' }, { 'if-match': '"v1"' });
      expect([suspended.status, suspended.json.status]).toEqual([200, 'suspended']);
      const refused = await enrich('susp-user', 'suspendable');
      expect(refused.status).toBe(403);
      expect(refused.json.type).toBe('urn:citadel:iam:problem:tenant-suspended');

      const resumed = await admin('PATCH', '/tenants/suspendable', { status: 'active' }, { 'if-match': suspended.headers.get('etag')! });
      expect(resumed.status).toBe(200);
      expect(await enrich('susp-user', 'suspendable')).toEqual(active);
    });

    it('removes a deleted role from every mapping and from the permissions enrich-token returns', async () => {
      await tenantWith('pruning', { keep: ['a:read', 'shared:read'], drop: ['b:write', 'shared:read'] }, { 'prune-1': ['keep', 'drop'], 'prune-2': ['drop'] });
      expect((await enrich('prune-1', 'pruning')).json).toMatchObject({ roles: ['drop', 'keep'], permissions: ['a:read', 'b:write', 'shared:read'] });

      expect((await admin('DELETE', '/tenants/pruning/roles/drop')).status).toBe(204);

      expect((await admin('GET', '/tenants/pruning/users/prune-1')).json.roles).toEqual(['keep']);
      expect((await admin('GET', '/tenants/pruning/users/prune-2')).json.roles).toEqual([]);
      const listed = await admin('GET', '/tenants/pruning/users');
      expect(listed.json.items.flatMap((u: { roles: string[] }) => u.roles)).not.toContain('drop');
      expect((await enrich('prune-1', 'pruning')).json).toMatchObject({ roles: ['keep'], permissions: ['a:read', 'shared:read'] });
      expect((await enrich('prune-2', 'pruning')).json).toMatchObject({ roles: [], permissions: [] });
    });
  });

  describe('as enrich-token sees it, further', () => {
    it("gives a subject a role's new permissions as soon as the PATCH answers", async () => {
      await tenantWith('widening', { analyst: ['reports:read'] }, { 'wide-user': ['analyst'] });
      expect((await enrich('wide-user', 'widening')).json.permissions).toEqual(['reports:read']);
      const patched = await admin('PATCH', '/tenants/widening/roles/analyst', { permissions: ['reports:write', 'reports:read', 'reports:write'] }, { 'if-match': '"v1"' });
      expect(patched.status).toBe(200);
      expect((await enrich('wide-user', 'widening')).json.permissions).toEqual(['reports:read', 'reports:write']);
    });

    it('answers 404 for the subjects of a deleted tenant', async () => {
      await tenantWith('doomed', { member: ['x:read'] }, { 'doomed-user': ['member'] });
      expect((await enrich('doomed-user', 'doomed')).status).toBe(200);
      expect((await admin('DELETE', '/tenants/doomed')).status).toBe(204);
      const gone = await enrich('doomed-user', 'doomed');
      // The same answer as for any tenant the subject is not in: a slug's existence is never told.
      expect([gone.status, gone.json.type]).toEqual([404, 'urn:citadel:iam:problem:subject-not-found']);
    });

    it('changes the ETag of a mapping whose roles changed because a role was deleted (RFC 9110 §8.8.1)', async () => {
      await tenantWith('etags', { stays: ['a:read'], goes: ['b:read'] }, { 'etag-user': ['stays', 'goes'] });
      const before = await admin('GET', '/tenants/etags/users/etag-user');
      expect((await admin('DELETE', '/tenants/etags/roles/goes')).status).toBe(204);
      const after = await admin('GET', '/tenants/etags/users/etag-user');
      expect(after.json.roles).toEqual(['stays']);
      expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    });
  });

  describe('outbox and audit', () => {
    interface Step {
      name: string;
      method: string;
      path: string;
      body?: unknown;
      headers?: Record<string, string>;
      status: number;
      type: string;
      subject: string;
      action: string;
    }
    const steps: Step[] = [
      { name: 'create a tenant', method: 'POST', path: '/tenants', body: { slug: 'evented', name: 'Evented' }, status: 201, type: 'citadel.iam.tenant.created', subject: 'tenants/evented', action: 'tenant.create' },
      { name: 'rename it', method: 'PATCH', path: '/tenants/evented', body: { name: 'Evented Inc' }, headers: { 'if-match': '"v1"' }, status: 200, type: 'citadel.iam.tenant.updated', subject: 'tenants/evented', action: 'tenant.update' },
      { name: 'suspend it', method: 'PATCH', path: '/tenants/evented', body: { status: 'suspended' }, headers: { 'if-match': '"v2"' }, status: 200, type: 'citadel.iam.tenant.updated', subject: 'tenants/evented', action: 'tenant.suspend' },
      { name: 'resume it', method: 'PATCH', path: '/tenants/evented', body: { status: 'active' }, headers: { 'if-match': '"v3"' }, status: 200, type: 'citadel.iam.tenant.updated', subject: 'tenants/evented', action: 'tenant.resume' },
      { name: 'create a role', method: 'POST', path: '/tenants/evented/roles', body: { name: 'writer', permissions: ['docs:write'] }, status: 201, type: 'citadel.iam.role.created', subject: 'tenants/evented/roles/writer', action: 'role.create' },
      { name: 'update the role', method: 'PATCH', path: '/tenants/evented/roles/writer', body: { description: 'Writes docs' }, headers: { 'if-match': '"v1"' }, status: 200, type: 'citadel.iam.role.updated', subject: 'tenants/evented/roles/writer', action: 'role.update' },
      { name: 'map a user', method: 'PUT', path: '/tenants/evented/users/evt-user', body: { roles: ['writer'] }, status: 201, type: 'citadel.iam.user.roles_set', subject: 'tenants/evented/users/evt-user', action: 'user.set_roles' },
      { name: 'replace its roles', method: 'PUT', path: '/tenants/evented/users/evt-user', body: { roles: [] }, status: 200, type: 'citadel.iam.user.roles_set', subject: 'tenants/evented/users/evt-user', action: 'user.set_roles' },
      { name: 'remove the user', method: 'DELETE', path: '/tenants/evented/users/evt-user', status: 204, type: 'citadel.iam.user.removed', subject: 'tenants/evented/users/evt-user', action: 'user.remove' },
      { name: 'delete the role', method: 'DELETE', path: '/tenants/evented/roles/writer', status: 204, type: 'citadel.iam.role.deleted', subject: 'tenants/evented/roles/writer', action: 'role.delete' },
      { name: 'delete the tenant', method: 'DELETE', path: '/tenants/evented', status: 204, type: 'citadel.iam.tenant.deleted', subject: 'tenants/evented', action: 'tenant.delete' },
    ];
    let tenantId: string | undefined;

    it.each(steps.map((s) => [s.name, s] as const))('writes one CloudEvent and one audit row when admins %s', async (_name, step) => {
      const { result, events, audit } = await changes(stack.db, () => admin(step.method, step.path, step.body, step.headers));
      expect(result.status).toBe(step.status);
      tenantId ??= result.json?.id;
      const requestId = result.headers.get('x-request-id');

      expect(events).toHaveLength(1);
      const [{ id, subject, event }] = events as [OutboxRow];
      expect(subject).toMatch(/^citadel\.iam\.(tenant|role|user)\.[a-z_]+$/);
      expect({ subject, type: event.type }).toEqual({ subject: step.type, type: step.type });
      expect(event).toMatchObject({ specversion: '1.0', id, subject: step.subject, actor: BOOTSTRAP_ADMIN, datacontenttype: 'application/json' });
      expect(typeof event.source).toBe('string');
      expect(new Date(event.time).toISOString()).toBe(event.time);
      const text = JSON.stringify(event);
      const token = stack.headers('platformAdmin').authorization!.replace('Bearer ', '');
      expect([text.includes(token), text.includes(ENRICH_KEY)]).toEqual([false, false]);
      expect(keysOf(event).filter((k) => /secret|password|token|authorization|api_?key/i.test(k))).toEqual([]);

      expect(audit).toEqual([
        { actor: BOOTSTRAP_ADMIN, tenant_id: tenantId, tenant_slug: 'evented', action: step.action, target: step.subject, result: 'success', request_id: requestId },
      ]);
    });

    it.each([
      ['a duplicate role (409)', 'POST', '/tenants/acme/roles', { name: 'viewer', permissions: [] }, {}, 409],
      ['a PATCH of a missing role (404)', 'PATCH', '/tenants/acme/roles/no-such-role', { description: 'x' }, { 'if-match': '"v1"' }, 404],
      ['a stale PATCH (412)', 'PATCH', '/tenants/acme', { name: 'x' }, { 'if-match': '"v42"' }, 412],
      ['a duplicate tenant (409)', 'POST', '/tenants', { slug: 'acme', name: 'Again' }, {}, 409],
      ['a delete of a missing user (404)', 'DELETE', '/tenants/acme/users/no-such-user', undefined, {}, 404],
    ] as const)('leaves no outbox event and no audit row after %s', async (_name, method, path, body, headers, status) => {
      const { result, events, audit } = await changes(stack.db, () => admin(method, path, body, headers));
      expectProblem(result, status);
      expect({ events, audit }).toEqual({ events: [], audit: [] });
    });

    it.each([
      ['outbox', "NEW.event->>'subject' LIKE '%atomic-outbox%'", 'atomic-outbox'],
      ['audit_log', "NEW.target LIKE '%atomic-audit%'", 'atomic-audit'],
    ])('commits nothing of a mutation whose %s write fails: the change, its event and its audit row share one transaction', async (table, condition, role) => {
      const fn = `test_fail_${table}`;
      await stack.db.query('test.trigger_fn', `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF ${condition} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
      await stack.db.query('test.trigger', `CREATE TRIGGER ${fn} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      try {
        const { result, events, audit } = await changes(stack.db, () => admin('POST', '/tenants/acme/roles', { name: role, permissions: ['x:read'] }));
        expect(result.status).toBeGreaterThanOrEqual(500);
        expect({ events, audit }).toEqual({ events: [], audit: [] });
        expect(await stack.db.query('test.role', 'SELECT 1 FROM roles WHERE name = $1', [role])).toEqual([]);
      } finally {
        await stack.db.query('test.drop_trigger', `DROP TRIGGER ${fn} ON ${table}`);
        await stack.db.query('test.drop_fn', `DROP FUNCTION ${fn}()`);
      }
    });
  });

  describe('user mappings', () => {
    it('refuses a PUT naming an unknown role with 400 that names it, and maps nothing', async () => {
      const { result, events, audit } = await changes(stack.db, () =>
        admin('PUT', '/tenants/acme/users/mapless-user', { roles: ['viewer', 'ghost-role'] }),
      );
      expectProblem(result, 400);
      expect(result.json.detail).toContain('ghost-role');
      expect(result.json.detail).not.toContain('viewer,');
      expect(result.json.errors).toEqual([expect.objectContaining({ path: 'roles', message: expect.stringContaining('ghost-role') })]);
      expect({ events, audit }).toEqual({ events: [], audit: [] });
      expect((await admin('GET', '/tenants/acme/users/mapless-user')).status).toBe(404);
    });
  });

  describe('the platform tenant', () => {
    it('cannot be deleted (409) and stays', async () => {
      const { result, events, audit } = await changes(stack.db, () => admin('DELETE', '/tenants/platform'));
      expectProblem(result, 409);
      expect({ events, audit }).toEqual({ events: [], audit: [] });
      expect((await admin('GET', '/tenants/platform')).status).toBe(200);
    });

    it('cannot be suspended (409), even with a current If-Match, and stays active', async () => {
      const current = await admin('GET', '/tenants/platform');
      const { result, events, audit } = await changes(stack.db, () =>
        admin('PATCH', '/tenants/platform', { status: 'suspended' }, { 'if-match': current.headers.get('etag')! }),
      );
      expectProblem(result, 409);
      expect({ events, audit }).toEqual({ events: [], audit: [] });
      expect((await admin('GET', '/tenants/platform')).json.status).toBe('active');
      expect((await admin('GET', '/tenants')).status).toBe(200);
    });

    it.each([
      ['removing the last platform admin', 'DELETE', '/tenants/platform/users/test-platform-admin', undefined],
      ['emptying the last platform admin’s roles', 'PUT', '/tenants/platform/users/test-platform-admin', { roles: [] }],
      ['taking iam:* from the platform-admin role', 'PATCH', '/tenants/platform/roles/platform-admin', { permissions: ['iam:admin'] }],
      ['deleting the platform-admin role', 'DELETE', '/tenants/platform/roles/platform-admin', undefined],
    ])('refuses %s (409), which would lock everyone out', async (_, method, path, body) => {
      const headers = method === 'PATCH' ? { 'if-match': (await admin('GET', path)).headers.get('etag')! } : undefined;
      const { result, events, audit } = await changes(stack.db, () => admin(method, path, body, headers));
      expectProblem(result, 409);
      expect(result.json.type).toBe('urn:citadel:iam:problem:last-platform-admin');
      expect({ events, audit }).toEqual({ events: [], audit: [] });
      expect((await admin('GET', '/tenants')).status).toBe(200);
    });
  });
});
