/**
 * /system/forward-auth with requests shaped as the gateways send them — nginx's `auth_request`
 * subrequest (the client's headers plus X-Original-URI and the gateway's X-API-Key), Traefik's
 * ForwardAuth GET (X-Forwarded-*), Envoy's ext_authz HTTP check (the client's method, path and
 * query behind a path prefix) — and end-user tokens from the real dev IdP.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Database } from '../../lib/adapters/postgres/database.js';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';
import { buildHttpEvent, lambdaContext } from '../../local/http-front.js';
import { mintAccessToken } from '../support/dev-idp.js';
import { forgetHome } from '../support/homes.js';
import { addRole, addTenant, mapSubject, testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase, testRun, withAdmin } from '../support/test-database.js';

const KEY = 'forward-auth-test-key-0123456789abcdefghij';
const NS = 'https://citadel.example/';
const REPORTER = { client_id: 'globex-reporter', client_secret: 'globex-reporter-secret-0123456789' };

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json: any;
}

describe('/system/forward-auth', () => {
  let handler: LambdaHttpHandler;
  let db: Database;
  let databaseUrl: string;
  let idp: DevIdp;
  const emitted: string[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    db = testDatabase(databaseUrl);
    const acme = await addTenant(db, 'acme');
    const globex = await addTenant(db, 'globex');
    const frozen = await addTenant(db, 'frozen', 'suspended');
    const billing = await addRole(db, acme, 'billing-admin', ['invoices:read', 'invoices:write']);
    const viewer = await addRole(db, globex, 'viewer', ['reports:read']);
    await mapSubject(db, acme, 'alice', [billing]);
    await mapSubject(db, acme, 'multi', [billing]);
    await mapSubject(db, globex, 'multi', [viewer]);
    await forgetHome(db, 'multi'); // in both from before home tenants: no home
    await mapSubject(db, frozen, 'frozen-user', []);
    await mapSubject(db, globex, REPORTER.client_id, [viewer], 'client');
    const everything = await addRole(db, globex, 'everything', Array.from({ length: 150 }, (_, i) => `resource-${i}:read-and-write-everything`));
    await mapSubject(db, globex, 'hoarder', [everything]);
    idp = await startDevIdp({ adminSubject: 'forward-auth-test-admin', extraClients: [REPORTER] });
    // EMF lines and our own logs go to stdout: keep them to assert on.
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    Object.assign(process.env, {
      DATABASE_URL: databaseUrl,
      ENRICH_API_KEYS: KEY,
      RAUTH_URL: idp.issuer,
      ADMIN_TOKEN_AUDIENCE: idp.audience,
      CLAIMS_NAMESPACE: NS,
      CLAIMS_MAX_BYTES: '2048',
      DB_CONNECT_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'error',
    });
    ({ handler } = await import('../../functions/forward-auth.js'));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await (await import('../../lib/wiring/base.js')).runtime().db.end();
    await db.end();
    await idp?.stop();
  });

  async function ask(method: string, path: string, headers: Record<string, string>): Promise<Answer> {
    const response = await handler(buildHttpEvent({ method, url: new URL(`https://iam.internal${path}`), headers }), lambdaContext(path));
    return { status: response.statusCode, headers: response.headers, body: response.body, json: response.body ? JSON.parse(response.body) : undefined };
  }
  const bearer = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

  /** nginx: a GET subrequest to the configured URI with the client's headers, X-Original-URI and the key the location sets. */
  const viaNginx = (token: string | undefined, options: { query?: string; headers?: Record<string, string> } = {}) =>
    ask('GET', `/system/forward-auth${options.query ?? ''}`, {
      host: 'iam.internal',
      'user-agent': 'Mozilla/5.0',
      accept: 'application/json',
      'x-original-uri': '/invoices/42?tenant=globex',
      'x-original-method': 'POST',
      'x-forwarded-for': '203.0.113.7',
      ...bearer(token),
      ...options.headers,
      'x-api-key': KEY, // proxy_set_header replaces whatever the client sent
    });

  /** Traefik: a GET to `address` with the client's headers and X-Forwarded-Method/-Proto/-Host/-Uri/-For. */
  const viaTraefik = (token: string | undefined, query = '') =>
    ask('GET', `/system/forward-auth${query}`, {
      host: 'iam.internal',
      'x-forwarded-method': 'DELETE',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'app.example',
      'x-forwarded-uri': '/invoices/42?tenant=globex',
      'x-forwarded-for': '203.0.113.7',
      ...bearer(token),
      'x-api-key': KEY,
    });

  /** Envoy: the client's method, and path_prefix + the client's path and query; Authorization passed, the key from headers_to_add. */
  const viaEnvoy = (token: string | undefined, clientPath: string) =>
    ask('POST', `/system/forward-auth${clientPath}`, {
      host: 'app.example',
      'content-length': '0',
      'x-forwarded-proto': 'https',
      'x-request-id': 'b1946ac9-2f1b-4c7e-9a3d-0f0e6c1d2a77',
      ...bearer(token),
      'x-api-key': KEY,
    });

  const user = (sub: string, claims: Record<string, unknown> = {}) => mintAccessToken(idp, { sub, ...claims });

  const expectAllowed = (answer: Answer, subject: string, tenant: string, roles: string, permissions: string) => {
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: '' });
    expect(answer.headers).toMatchObject({ 'X-Auth-Subject': subject, 'X-Auth-Tenant': tenant, 'X-Auth-Roles': roles, 'X-Auth-Permissions': permissions, 'cache-control': 'no-store' });
  };

  const expectRefused = (answer: Answer, status: number, code: string) =>
    expect({ status: answer.status, type: answer.json?.type }).toEqual({ status, type: `urn:citadel:iam:problem:${code}` });

  describe('allows', () => {
    it('answers nginx with the subject, tenant, roles and permissions as headers and an empty body', async () => {
      expectAllowed(await viaNginx(await user('alice')), 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
    });

    it('accepts a client-credentials token the IdP issued, for the client as subject', async () => {
      expectAllowed(await viaNginx(await idp.clientCredentialsToken(REPORTER)), REPORTER.client_id, 'globex', 'viewer', 'reports:read');
    });

    it('answers Traefik’s GET the same way', async () => {
      expectAllowed(await viaTraefik(await user('alice')), 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
    });

    it('answers Envoy’s check, made with the client’s method below the path prefix', async () => {
      expectAllowed(await viaEnvoy(await user('alice'), '/invoices/42'), 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
    });
  });

  describe('refuses the end user with 401 and a Bearer challenge', () => {
    it('when a token it verified once has expired since: verified tokens are remembered only until exp', async () => {
      // Expired 3 s ago: still inside the verifier's 5 s clock tolerance, so accepted once ...
      const now = Math.floor(Date.now() / 1000);
      const token = await user('alice', { iat: now - 60, exp: now - 3 });
      expectAllowed(await viaNginx(token), 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
      // ... and, past the tolerance, refused: not served from what was remembered.
      await new Promise((resolve) => setTimeout(resolve, (now + 2) * 1000 - Date.now() + 200));
      expectRefused(await viaNginx(token), 401, 'unauthorized');
    });

    it('when there is no token', async () => {
      const answer = await viaNginx(undefined);
      expectRefused(answer, 401, 'unauthorized');
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="iam-service"');
    });

    it('when the Authorization header is not a bearer token', async () => {
      const answer = await viaNginx(undefined, { headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
      expectRefused(answer, 401, 'unauthorized');
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer /);
    });

    it.each([
      ['not a JWT', async () => 'not-a-jwt'],
      ['expired', async () => user('alice', { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })],
      ['for another audience', async () => user('alice', { aud: 'urn:citadel:something-else' })],
      ['from another issuer', async () => user('alice', { iss: 'https://idp.evil.example/' })],
      [
        'signed by a key the IdP never published',
        async () =>
          new SignJWT({ sub: 'alice', iss: idp.issuer, aud: idp.audience })
            .setProtectedHeader({ alg: 'ES256', kid: idp.signingKey.kid, typ: 'at+jwt' })
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
      ],
      [
        'unsigned (alg none)',
        async () => {
          const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
          const now = Math.floor(Date.now() / 1000);
          return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ sub: 'alice', iss: idp.issuer, aud: idp.audience, iat: now, exp: now + 300 })}.`;
        },
      ],
    ])('when the token is %s', async (_, token) => {
      const answer = await viaNginx(await token());
      expectRefused(answer, 401, 'unauthorized');
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="iam-service", error="invalid_token"');
      expect(answer.headers['X-Auth-Subject']).toBeUndefined();
    });
  });

  describe('denies with 403', () => {
    it('a subject that belongs to no tenant', async () => {
      expectRefused(await viaNginx(await user('nobody')), 403, 'subject-not-found');
    });

    it('a subject of a suspended tenant', async () => {
      expectRefused(await viaNginx(await user('frozen-user')), 403, 'tenant-suspended');
    });

    it('a subject in several tenants when neither the token nor the gateway names one', async () => {
      expectRefused(await viaNginx(await user('multi')), 403, 'tenant-required');
    });

    it('claims over the byte budget, which would break a header limit at the gateway', async () => {
      const answer = await viaNginx(await user('hoarder'));
      expectRefused(answer, 403, 'claims-too-large');
      expect(answer.json.detail).toMatch(/over the 2048-byte budget/);
    });

    it('a subject the gateway’s tenant does not know, with the same answer whether that tenant exists, is suspended or not', async () => {
      const answers = await Promise.all(['globex', 'frozen', 'initech'].map(async (tenant) => viaNginx(await user('alice'), { query: `?tenant=${tenant}` })));
      for (const answer of answers) expectRefused(answer, 403, 'subject-not-found');
      const wire = (answer: Answer, tenant: string) => JSON.stringify({ ...answer.json, request_id: undefined, detail: String(answer.json.detail).replace(tenant, '<t>') });
      expect(new Set(answers.map((answer, i) => wire(answer, ['globex', 'frozen', 'initech'][i]!))).size).toBe(1);
      // A user of a suspended tenant at another tenant's site is refused too.
      expectRefused(await viaNginx(await user('frozen-user'), { query: '?tenant=acme' }), 403, 'subject-not-found');
    });

    it('a token for one tenant at a gateway configured for another', async () => {
      expectRefused(await viaNginx(await user('multi', { [`${NS}tenant`]: 'acme' }), { query: '?tenant=globex' }), 403, 'tenant-mismatch');
    });

    it('a token whose tenant claim is not a tenant slug', async () => {
      expectRefused(await viaNginx(await user('multi', { [`${NS}tenant`]: ['acme', 'globex'] })), 403, 'tenant-invalid');
    });

    it('a subject that cannot travel in a header', async () => {
      expectRefused(await viaNginx(await user('名前')), 403, 'subject-not-header-safe');
    });
  });

  describe('takes the tenant only from the verified token or the gateway’s configuration', () => {
    it('uses the tenant of the auth URL the gateway operator configured', async () => {
      expectAllowed(await viaNginx(await user('multi'), { query: '?tenant=globex' }), 'multi', 'globex', 'viewer', 'reports:read');
      expectAllowed(await viaTraefik(await user('multi'), '?tenant=acme'), 'multi', 'acme', 'billing-admin', 'invoices:read,invoices:write');
    });

    it('uses the token’s tenant claim, under the claims namespace', async () => {
      expectAllowed(await viaNginx(await user('multi', { [`${NS}tenant`]: 'globex' })), 'multi', 'globex', 'viewer', 'reports:read');
      expectAllowed(await viaNginx(await user('multi', { [`${NS}tenant`]: 'globex' }), { query: '?tenant=globex' }), 'multi', 'globex', 'viewer', 'reports:read');
    });

    it('ignores a tenant claim outside the namespace', async () => {
      expectRefused(await viaNginx(await user('multi', { tenant: 'globex' })), 403, 'tenant-required');
    });

    it('ignores the end user’s X-Tenant and X-Auth-* headers and never echoes them', async () => {
      const forged = { 'x-tenant': 'globex', 'x-auth-tenant': 'globex', 'x-auth-subject': 'root', 'x-auth-roles': 'platform-admin', 'x-auth-permissions': '*' };
      expectRefused(await viaNginx(await user('multi'), { headers: forged }), 403, 'tenant-required');
      const answer = await viaNginx(await user('alice'), { headers: forged });
      expectAllowed(answer, 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
      expect(Object.keys(answer.headers).filter((name) => /^x-auth-/i.test(name)).sort()).toEqual(['X-Auth-Permissions', 'X-Auth-Roles', 'X-Auth-Subject', 'X-Auth-Tenant']);
      expect(Object.values(answer.headers).filter((value) => ['root', 'platform-admin', '*', 'globex'].includes(value))).toEqual([]);
    });

    it('honours the operator’s tenant behind a trailing slash, a stage or base-path prefix, and any path under it', async () => {
      const token = await user('alice'); // acme only
      for (const path of [
        '/system/forward-auth/?tenant=globex',
        '/dev/system/forward-auth?tenant=globex',
        '/dev/system/forward-auth/?tenant=globex',
        '/iam/v1/system/forward-auth?tenant=globex',
        '/system/forward-auth/site-a?tenant=globex',
        '/dev/system/forward-auth/invoices/42?tenant=globex',
      ]) {
        expectRefused(await ask('GET', path, { ...bearer(token), 'x-api-key': KEY }), 403, 'subject-not-found');
      }
      expectAllowed(await ask('GET', '/dev/system/forward-auth/?tenant=globex', { ...bearer(await user('multi')), 'x-api-key': KEY }), 'multi', 'globex', 'viewer', 'reports:read');
    });

    it('keeps the tenant of Envoy’s path prefix (ending in `&`) against the client’s query, which may repeat it but never replace it', async () => {
      const prefix = '?tenant=globex&';
      expectAllowed(await viaEnvoy(await user('multi'), `${prefix}/invoices/42?page=2`), 'multi', 'globex', 'viewer', 'reports:read');
      expectAllowed(await viaEnvoy(await user('multi'), `${prefix}/invoices/42?tenant=globex&x=%zz`), 'multi', 'globex', 'viewer', 'reports:read');
      expectRefused(await viaEnvoy(await user('alice'), `${prefix}/invoices/42`), 403, 'subject-not-found');
      expectRefused(await viaEnvoy(await user('multi'), `${prefix}/invoices/42?tenant=acme`), 400, 'bad-request');
      expectRefused(await viaEnvoy(await user('multi'), `${prefix}/invoices/42?a=1&tenant=acme`), 400, 'bad-request');
      // A prefix without the `&` glues the client's path to the slug: refused, never ignored.
      expectRefused(await viaEnvoy(await user('multi'), '?tenant=globex/invoices/42'), 400, 'bad-request');
    });

    it('lets the client’s query behind a prefix without a tenant pick only among the user’s own tenants', async () => {
      expectAllowed(await viaEnvoy(await user('multi'), '/invoices/42?tenant=globex'), 'multi', 'globex', 'viewer', 'reports:read');
      expectRefused(await viaEnvoy(await user('alice'), '/invoices/42?tenant=globex'), 403, 'subject-not-found');
      expectRefused(await viaEnvoy(await user('multi'), '/invoices/42?q=1'), 403, 'tenant-required');
      expectAllowed(await viaEnvoy(await user('alice'), '/invoices/42?q=1&other=%E2%82%AC'), 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
    });

    it('answers a malformed or unknown auth URL parameter with 400, a gateway configuration error', async () => {
      const token = await user('alice');
      for (const query of ['?tenant=Not_A_Slug', '?tennant=acme', '?tenant=', '?tenant', '?tenant=acme&tenant=globex', '?tenant=%zz', '?t%zznant=acme', '?tenant=acme%00']) {
        expectRefused(await viaNginx(token, { query }), 400, 'bad-request');
      }
      for (const path of ['/system/forward-auth/x?tenant=acme&tenant=globex', '/dev/system/forward-auth/?%74enant=Nope', '/system/forward-auth/a?ten%ant=acme']) {
        expectRefused(await ask('GET', path, { ...bearer(token), 'x-api-key': KEY }), 400, 'bad-request');
      }
      expectAllowed(await viaNginx(token, { query: '?tenant=acme&tenant=acme' }), 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
      expectAllowed(await viaNginx(token, { query: '?%74enant=acme' }), 'alice', 'acme', 'billing-admin', 'invoices:read,invoices:write');
    });
  });

  describe('the gateway’s own authentication', () => {
    it('refuses a gateway without the API key before looking at the user’s token', async () => {
      const answer = await ask('GET', '/system/forward-auth', { ...bearer(await user('alice')) });
      expectRefused(answer, 401, 'unauthorized');
      expect(answer.headers['www-authenticate']).toMatch(/^ApiKey /);
    });

    it('never takes the end user’s Authorization header for the gateway’s key, even as a Basic password', async () => {
      const basic = `Basic ${Buffer.from(`gateway:${KEY}`).toString('base64')}`;
      const answer = await ask('GET', '/system/forward-auth', { authorization: basic });
      expectRefused(answer, 401, 'unauthorized');
      expect(answer.headers['www-authenticate']).toMatch(/^ApiKey /);
    });
  });

  it('labels its metrics with the forward-auth dialect', async () => {
    emitted.length = 0;
    await viaNginx(await user('alice'));
    await viaNginx(undefined);
    const metrics = emitted.map((line) => JSON.parse(line)).filter((entry) => entry._aws);
    expect(metrics.map(({ handler: name, dialect, status }) => ({ name, dialect, status }))).toEqual([
      { name: '/system/forward-auth', dialect: 'forward-auth', status: '2xx' },
      { name: '/system/forward-auth', dialect: 'forward-auth', status: '4xx' },
    ]);
  });

  // Last: the test database refuses connections until the end of the test.
  it('answers 503 when the store is down, which every gateway treats as a deny', async () => {
    const token = await user('alice');
    const name = new URL(databaseUrl).pathname.slice(1);
    const { adminUrl } = testRun();
    await withAdmin(adminUrl, async (client) => {
      await client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    });
    try {
      const answer = await viaNginx(token);
      expectRefused(answer, 503, 'dependency-unavailable');
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.headers['X-Auth-Subject']).toBeUndefined();
    } finally {
      await withAdmin(adminUrl, (client) => client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`));
    }
  });
});
