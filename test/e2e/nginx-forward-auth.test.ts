/**
 * End to end behind a real nginx (Debian's package), configured as the README says: every
 * request to the protected site goes through `auth_request` to /system/forward-auth on the local
 * front, and the upstream — a small server that records what reaches it — gets the X-Auth-*
 * headers nginx copies from the answer. Tokens are the dev IdP's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AdminStack, ENRICH_KEY, startAdminStack } from '../support/admin-stack.js';
import { mintAccessToken } from '../support/dev-idp.js';
import { forgetHome } from '../support/homes.js';
import { type Nginx, nginxBinary, startNginx } from '../support/nginx.js';
import { addRole, addTenant, mapSubject } from '../support/policy-fixture.js';
import { testRun, withAdmin } from '../support/test-database.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** The server block of the README's nginx example; `/acme/` is a site whose gateway names its tenant. */
const siteConfig = (front: string, upstream: string) => {
  const protectedBy = (auth: string) => `
      auth_request ${auth};
      auth_request_set $auth_subject $upstream_http_x_auth_subject;
      auth_request_set $auth_tenant $upstream_http_x_auth_tenant;
      auth_request_set $auth_roles $upstream_http_x_auth_roles;
      auth_request_set $auth_permissions $upstream_http_x_auth_permissions;
      proxy_set_header X-Auth-Subject $auth_subject;
      proxy_set_header X-Auth-Tenant $auth_tenant;
      proxy_set_header X-Auth-Roles $auth_roles;
      proxy_set_header X-Auth-Permissions $auth_permissions;
      proxy_pass ${upstream};`;
  const check = (query: string) => `
      internal;
      proxy_pass ${front}${query.startsWith('/') ? '' : '/system/forward-auth'}${query};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-API-Key ${ENRICH_KEY};
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_buffer_size 16k;
      proxy_busy_buffers_size 16k;`;
  return `
    location / {${protectedBy('/_auth')}
    }
    location /acme/ {${protectedBy('/_auth_acme')}
    }
    location /acme-slash/ {${protectedBy('/_auth_acme_slash')}
    }
    location /acme-under/ {${protectedBy('/_auth_acme_under')}
    }
    location = /_auth {${check('')}
    }
    location = /_auth_acme {${check('?tenant=acme')}
    }
    location = /_auth_acme_slash {${check('/system/forward-auth/?tenant=acme')}
    }
    location = /_auth_acme_under {${check('/system/forward-auth/site-a?tenant=acme')}
    }`;
};

describe('nginx auth_request in front of an upstream, with forward-auth deciding', () => {
  let stack: AdminStack;
  let nginx: Nginx;
  let upstream: Server;
  const seen: Seen[] = [];
  const token = (sub: string) => mintAccessToken(stack.idp, { sub });

  beforeAll(async () => {
    nginxBinary(); // fails the suite at once, naming the package, when nginx is not installed
    stack = await startAdminStack();
    const { acme, globex } = stack.tenants;
    const frozen = await addTenant(stack.db, 'frozen', 'suspended');
    const billing = await addRole(stack.db, acme, 'billing-admin', ['invoices:read', 'invoices:write']);
    const reports = await addRole(stack.db, globex, 'reports', ['reports:read']);
    await mapSubject(stack.db, acme, 'alice', [billing]);
    await mapSubject(stack.db, globex, 'roleless', []);
    await mapSubject(stack.db, acme, 'multi', [billing]);
    await mapSubject(stack.db, globex, 'multi', [reports]);
    await forgetHome(stack.db, 'multi'); // in both from before home tenants: no home, so a site naming none refuses
    await mapSubject(stack.db, frozen, 'frozen-user', []);

    upstream = createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    nginx = await startNginx({ server: () => siteConfig(stack.url, upstreamUrl) });
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    if (upstream) await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await stack?.stop();
  });

  /** A request through nginx; returns nginx's answer and what the upstream saw of it (if anything). */
  async function through(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const before = seen.length;
    const response = await fetch(`${nginx.url}${path}`, { method, headers, body: method === 'POST' ? '{"amount":42}' : undefined });
    const body = await response.text();
    const reached = seen.slice(before);
    expect(reached.length).toBeLessThanOrEqual(1);
    return { status: response.status, headers: response.headers, body, upstream: reached[0] };
  }
  const bearer = async (sub: string) => ({ authorization: `Bearer ${await token(sub)}` });

  it('passes a user with a valid token, and the upstream gets their tenant, roles and permissions', async () => {
    const answer = await through('/invoices/42', await bearer('alice'));
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: 'upstream' });
    expect(answer.upstream).toMatchObject({
      url: '/invoices/42',
      headers: { 'x-auth-subject': 'alice', 'x-auth-tenant': 'acme', 'x-auth-roles': 'billing-admin', 'x-auth-permissions': 'invoices:read,invoices:write' },
    });
  });

  it('passes a client-credentials token the IdP issued, and a POST with its body', async () => {
    const answer = await through('/invoices', { ...stack.headers('user'), 'content-type': 'application/json' }, 'POST');
    expect(answer.status).toBe(200);
    expect(answer.upstream).toMatchObject({ method: 'POST', headers: { 'x-auth-subject': 'acme-user', 'x-auth-tenant': 'acme', 'x-auth-roles': 'viewer', 'x-auth-permissions': 'invoices:read' } });
  });

  it('answers 401 with a Bearer challenge to a request without a token, and the upstream sees nothing', async () => {
    const answer = await through('/invoices/42');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="iam-service"');
    expect(answer.upstream).toBeUndefined();
  });

  it('answers 401 to an invalid token, and the upstream sees nothing', async () => {
    const answer = await through('/invoices/42', { authorization: 'Bearer not-a-jwt' });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(answer.upstream).toBeUndefined();
  });

  it.each([
    ['a subject of a suspended tenant', 'frozen-user'],
    ['a subject no tenant knows', 'stranger'],
    ['a subject in several tenants at a site that names none', 'multi'],
  ])('answers 403 to %s, and the upstream sees nothing', async (_, subject) => {
    const answer = await through('/invoices/42', await bearer(subject));
    expect(answer.status).toBe(403);
    expect(answer.upstream).toBeUndefined();
  });

  it('uses the tenant the site’s auth URL names, and never one from the user’s URL or headers', async () => {
    const atAcme = await through('/acme/invoices', await bearer('multi'));
    expect(atAcme.status).toBe(200);
    expect(atAcme.upstream?.headers).toMatchObject({ 'x-auth-tenant': 'acme', 'x-auth-roles': 'billing-admin' });
    // nginx sends no query of the user's to the auth URL, and forward-auth reads no X-Tenant.
    expect((await through('/invoices?tenant=globex', { ...(await bearer('multi')), 'x-tenant': 'globex' })).status).toBe(403);
    const forced = await through('/acme/invoices?tenant=globex', { ...(await bearer('multi')), 'x-tenant': 'globex', 'x-auth-tenant': 'globex' });
    expect(forced.upstream?.headers['x-auth-tenant']).toBe('acme');
  });

  it('keeps the site’s tenant behind a trailing slash or a longer auth path: another tenant’s user is refused', async () => {
    for (const site of ['/acme-slash/invoices', '/acme-under/invoices']) {
      const refused = await through(site, await bearer('roleless')); // globex's user
      expect({ site, status: refused.status, reached: refused.upstream }).toEqual({ site, status: 403, reached: undefined });
      const allowed = await through(site, await bearer('multi'));
      expect(allowed.upstream?.headers).toMatchObject({ 'x-auth-tenant': 'acme', 'x-auth-roles': 'billing-admin' });
    }
  });

  it('never lets a user-forged X-Auth-* header reach the upstream as sent', async () => {
    const forged = { 'x-auth-subject': 'root', 'x-auth-tenant': 'globex', 'x-auth-roles': 'platform-admin', 'x-auth-permissions': '*' };
    const alice = await through('/invoices/42', { ...(await bearer('alice')), ...forged });
    expect(alice.upstream?.headers).toMatchObject({ 'x-auth-subject': 'alice', 'x-auth-tenant': 'acme', 'x-auth-roles': 'billing-admin', 'x-auth-permissions': 'invoices:read,invoices:write' });
    // No roles to replace the forged ones with: nginx drops the header rather than pass the user's.
    const roleless = await through('/reports', { ...(await bearer('roleless')), ...forged });
    expect(roleless.status).toBe(200);
    expect(roleless.upstream?.headers).toMatchObject({ 'x-auth-subject': 'roleless', 'x-auth-tenant': 'globex' });
    expect(roleless.upstream?.headers['x-auth-roles']).toBeUndefined();
    expect(roleless.upstream?.headers['x-auth-permissions']).toBeUndefined();
  });

  it('never passes the gateway’s API key to the upstream', () => {
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((request) => JSON.stringify(request.headers).includes(ENRICH_KEY))).toEqual([]);
  });

  // Last: the database refuses connections until the end of the test.
  it('fails closed when the store is down: nginx answers 500 and the upstream sees nothing', async () => {
    const headers = await bearer('alice');
    const name = new URL(process.env.DATABASE_URL!).pathname.slice(1);
    const { adminUrl } = testRun();
    await withAdmin(adminUrl, async (client) => {
      await client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    });
    try {
      const answer = await through('/invoices/42', headers);
      expect(answer.status).toBe(500);
      expect(answer.upstream).toBeUndefined();
      expect(await nginx.errorLog()).toContain('auth request unexpected status: 503');
    } finally {
      await withAdmin(adminUrl, (client) => client.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`));
    }
  });
});
