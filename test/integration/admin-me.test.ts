/**
 * GET /me: any caller with a valid admin token learns its own subject, whether it is a platform
 * admin and which tenants it administers — the same scope, and the same rule, the other routes
 * decide by. It writes nothing (not even an audit row), and every token that is not valid is a
 * 401 problem that never echoes the token.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { adminFunction, type AdminFunctionDeps } from '../../lib/admin/admin-function.js';
import { type AdminStack, PERSONAS, startAdminStack } from '../support/admin-stack.js';
import { mintAccessToken } from '../support/dev-idp.js';
import { addRole, addTenant, mapSubject } from '../support/policy-fixture.js';
import { expectProblem } from '../support/problem.js';
import { BOOTSTRAP_ADMIN } from '../support/test-database.js';

const PLATFORM_ID = '00000000-0000-4000-8000-000000000001';
const MULTI = 'me-multi-admin';
const now = () => Math.floor(Date.now() / 1000);

describe('GET /me', () => {
  let stack: AdminStack;
  /** A token of MULTI, a subject with admin roles in several tenants (see beforeAll). */
  let multi: Record<string, string>;

  const me = (headers: Record<string, string>, path = '/me') => stack.call('none', 'GET', path, undefined, headers);
  const auditTotal = async () =>
    Number((await stack.db.query<{ n: string }>('test.audit', 'SELECT coalesce(sum(count), 0)::text AS n FROM audit_log'))[0]!.n);

  beforeAll(async () => {
    stack = await startAdminStack();
    const { db } = stack;
    const tenant = async (slug: string, permissions: string[], status: 'active' | 'suspended' = 'active') => {
      const id = await addTenant(db, slug, status);
      await mapSubject(db, id, MULTI, [await addRole(db, id, 'r', permissions)]);
    };
    await tenant('me-zeta', ['iam:admin']);
    await tenant('me-beta', ['iam:*']);
    await tenant('me-alpha', ['invoices:read']); // a member, not an admin
    await tenant('me-gone', ['iam:admin'], 'suspended');
    // iam:admin in the platform tenant is not platform admin (that is iam:*), and gives no platform tenant.
    await mapSubject(db, PLATFORM_ID, MULTI, [await addRole(db, PLATFORM_ID, 'platform-tenant-admin', ['iam:admin'])]);
    multi = { authorization: `Bearer ${await mintAccessToken(stack.idp, { sub: MULTI })}` };
  });
  afterAll(() => stack?.stop());

  it('answers each caller with its own subject and scope', async () => {
    const answers = Object.fromEntries(
      await Promise.all((['platformAdmin', 'tenantAdmin', 'otherTenantAdmin', 'user'] as const).map(async (p) => [p, await stack.call(p, 'GET', '/me')] as const)),
    );
    expect(Object.fromEntries(Object.entries(answers).map(([p, a]) => [p, { status: a.status, body: a.json }]))).toEqual({
      platformAdmin: { status: 200, body: { subject: BOOTSTRAP_ADMIN, platform_admin: true, tenants: ['platform'] } },
      tenantAdmin: { status: 200, body: { subject: 'acme-admin', platform_admin: false, tenants: ['acme'] } },
      otherTenantAdmin: { status: 200, body: { subject: 'globex-admin', platform_admin: false, tenants: ['globex'] } },
      user: { status: 200, body: { subject: 'acme-user', platform_admin: false, tenants: [] } },
    });
    expect(answers.user!.headers.get('content-type')).toBe('application/json');
    expect(answers.user!.headers.get('cache-control')).toBe('no-store');
  });

  it('lists the active tenants the caller administers, sorted, and not the platform tenant of an iam:admin there', async () => {
    const answer = await me(multi);
    expect({ status: answer.status, body: answer.json }).toEqual({ status: 200, body: { subject: MULTI, platform_admin: false, tenants: ['me-beta', 'me-zeta'] } });
  });

  it('agrees with what the tenant routes decide for the same caller', async () => {
    const { tenants } = (await me(multi)).json as { tenants: string[] };
    const slugs = ['acme', 'globex', 'platform', 'me-alpha', 'me-beta', 'me-gone', 'me-zeta'];
    const admitted = [];
    for (const slug of slugs) if ((await stack.call('none', 'GET', `/tenants/${slug}/roles`, undefined, multi)).status === 200) admitted.push(slug);
    expect(admitted).toEqual(tenants);
  });

  it('writes no audit row, for any caller', async () => {
    const before = await auditTotal();
    for (const persona of PERSONAS) await stack.call(persona, 'GET', '/me');
    await me(multi);
    expect(await auditTotal()).toBe(before);
  });

  it('refuses every token that is not a valid one for this API with 401, never echoing it', async () => {
    const claims = { sub: BOOTSTRAP_ADMIN, iss: stack.idp.issuer, aud: stack.idp.audience };
    const strangerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const tokens: Record<string, string> = {
      'an expired token': await mintAccessToken(stack.idp, { sub: BOOTSTRAP_ADMIN, iat: now() - 600, exp: now() - 60 }),
      'a token for another audience': await mintAccessToken(stack.idp, { sub: BOOTSTRAP_ADMIN, aud: 'urn:citadel:billing' }),
      'a token from another issuer': await mintAccessToken(stack.idp, { sub: BOOTSTRAP_ADMIN, iss: 'http://127.0.0.1:9/not-the-idp' }),
      'a token signed by an unpublished key': await new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: stack.idp.signingKey.kid, typ: 'at+jwt' })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(strangerKey),
      'an unsigned token': `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, exp: now() + 300 })}.`,
      'a token without sub': await mintAccessToken(stack.idp, { sub: undefined as unknown as string }),
      garbage: 'not-a-jwt',
      'three dots of garbage': 'a.b.c',
      'JSON in place of a token': '{"sub":"test-platform-admin"}',
      // Under the HTTP front's 16 KiB header limit, which answers 431 itself above it.
      'a very long token': 'x'.repeat(8_000),
    };
    const headers: Record<string, Record<string, string>> = {
      'no Authorization header': {},
      'an empty Bearer': { authorization: 'Bearer ' },
      'Basic credentials': { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      ...Object.fromEntries(Object.entries(tokens).map(([name, token]) => [name, { authorization: `Bearer ${token}` }])),
    };
    const before = await auditTotal();
    const wrong: string[] = [];
    for (const [name, h] of Object.entries(headers)) {
      const answer = await me(h);
      expectProblem(answer, 401);
      if (!/^Bearer/.test(answer.headers.get('www-authenticate') ?? '')) wrong.push(`${name}: no Bearer challenge`);
      const token = h.authorization?.replace(/^\w+ /, '');
      if (token && token.length > 8 && JSON.stringify(answer.json).includes(token.slice(0, 60))) wrong.push(`${name}: echoed`);
    }
    expect(wrong).toEqual([]);
    expect(await auditTotal()).toBe(before);
  });

  it('takes no query string', async () => {
    expectProblem(await me(multi, '/me?tenant=acme'), 400);
    expectProblem(await me(multi, '/me?limit=1'), 400);
  });

  it('cannot be declared for a route that names a tenant or changes something', () => {
    const build = (method: 'GET' | 'POST', path: string) => () =>
      adminFunction({} as AdminFunctionDeps, 'probe', { method, path, access: 'authenticated', lambda: 'probe', summary: 'probe' }, {}, async () => ({ status: 200, body: {} }));
    expect(build('GET', '/tenants/{tenant}/roles')).toThrow(/access 'authenticated' is for a GET without path parameters/);
    expect(build('POST', '/me')).toThrow(/access 'authenticated' is for a GET without path parameters/);
    expect(build('GET', '/me')).not.toThrow();
  });
});
