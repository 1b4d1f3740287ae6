/**
 * End to end, as an operator would: a platform admin gets a token from the IdP by the standard
 * client-credentials grant, builds a tenant with two roles and a user mapping over HTTP, and the
 * gateway's enrich-token call returns exactly that policy. Then the operator registers a client
 * at the IdP, makes it the new tenant's admin, and that admin manages its tenant but finds no
 * other tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AdminStack, ENRICH_KEY, startAdminStack } from '../support/admin-stack.js';
import { BOOTSTRAP_ADMIN } from '../support/test-database.js';

interface Client {
  client_id: string;
  client_secret: string;
}

/** RFC 6749 §2.3.1: id and secret are form-encoded, joined with a colon, then base64-encoded. */
const basic = ({ client_id, client_secret }: Client) => {
  const form = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${form(client_id)}:${form(client_secret)}`).toString('base64')}`;
};

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('from the admin API to enrich-token', () => {
  let stack: AdminStack;

  async function clientCredentials(client: Client): Promise<string> {
    const response = await fetch(stack.idp.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    const body = (await response.json()) as { access_token?: string; token_type?: string };
    expect({ status: response.status, token_type: body.token_type }).toEqual({ status: 200, token_type: 'Bearer' });
    return body.access_token!;
  }

  async function api(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  }

  async function enrich(request: Record<string, string>): Promise<{ status: number; json: any }> {
    const response = await fetch(`${stack.url}/system/enrich-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ENRICH_KEY },
      body: JSON.stringify(request),
    });
    return { status: response.status, json: await response.json() };
  }

  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack?.stop());

  let platformToken: string;
  let tenantId: string;

  it('issues the platform admin a token by the client-credentials grant', async () => {
    platformToken = await clientCredentials(stack.idp.admin);
    expect(claimsOf(platformToken)).toMatchObject({ sub: BOOTSTRAP_ADMIN, iss: stack.idp.issuer, aud: stack.idp.audience });
  });

  it('creates a tenant, two roles and a user mapping over HTTP', async () => {
    const tenant = await api(platformToken, 'POST', '/tenants', { slug: 'initech', name: 'Initech' });
    expect(tenant).toMatchObject({ status: 201, json: { slug: 'initech', name: 'Initech', status: 'active' } });
    tenantId = tenant.json.id;

    const billing = await api(platformToken, 'POST', '/tenants/initech/roles', {
      name: 'billing-admin',
      description: 'Runs invoicing',
      permissions: ['invoices:write', 'invoices:read', 'payments:read'],
    });
    const viewer = await api(platformToken, 'POST', '/tenants/initech/roles', { name: 'viewer', permissions: ['reports:read', 'invoices:read'] });
    expect([billing.status, viewer.status]).toEqual([201, 201]);

    const mapping = await api(platformToken, 'PUT', '/tenants/initech/users/peter', { roles: ['viewer', 'billing-admin', 'viewer'] });
    expect(mapping).toMatchObject({ status: 201, json: { tenant: 'initech', subject: 'peter', roles: ['billing-admin', 'viewer'] } });
  });

  it('enriches the user with exactly those roles and permissions, sorted and de-duplicated', async () => {
    const expected = {
      subject: 'peter',
      subject_type: 'user',
      tenant: { id: tenantId, slug: 'initech' },
      roles: ['billing-admin', 'viewer'],
      permissions: ['invoices:read', 'invoices:write', 'payments:read', 'reports:read'],
    };
    expect(await enrich({ subject: 'peter', tenant: 'initech' })).toEqual({ status: 200, json: expected });
    // Peter belongs to one tenant only, so the gateway may leave the tenant out.
    expect(await enrich({ subject: 'peter' })).toEqual({ status: 200, json: expected });
  });

  describe('a tenant admin of the new tenant', () => {
    let admin: Client;
    let adminToken: string;

    it('is a client registered at the IdP and mapped to an iam:admin role of the tenant', async () => {
      const registration = await fetch(stack.idp.registrationEndpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.idp.initialAccessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'Initech administration',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
        }),
      });
      expect(registration.status).toBe(201);
      admin = (await registration.json()) as Client;

      expect((await api(platformToken, 'POST', '/tenants/initech/roles', { name: 'tenant-admin', permissions: ['iam:admin'] })).status).toBe(201);
      expect((await api(platformToken, 'PUT', `/tenants/initech/users/${admin.client_id}`, { roles: ['tenant-admin'] })).status).toBe(201);

      adminToken = await clientCredentials(admin);
      expect(claimsOf(adminToken).sub).toBe(admin.client_id);
    });

    it('manages its own tenant', async () => {
      expect((await api(adminToken, 'GET', '/tenants/initech')).json).toMatchObject({ slug: 'initech', status: 'active' });
      expect((await api(adminToken, 'POST', '/tenants/initech/roles', { name: 'auditor', permissions: ['audit:read'] })).status).toBe(201);
      expect((await api(adminToken, 'PUT', '/tenants/initech/users/samir', { roles: ['auditor', 'viewer'] })).status).toBe(201);
      const users = await api(adminToken, 'GET', '/tenants/initech/users');
      expect(users.json.items.map((u: { subject: string }) => u.subject)).toEqual(expect.arrayContaining(['peter', 'samir']));
      expect((await enrich({ subject: 'samir', tenant: 'initech' })).json).toMatchObject({
        roles: ['auditor', 'viewer'],
        permissions: ['audit:read', 'invoices:read', 'reports:read'],
      });
      const audit = await api(adminToken, 'GET', '/tenants/initech/audit?limit=2');
      expect(audit.json.items.map((e: { actor: string; action: string }) => [e.actor, e.action])).toEqual([
        [admin.client_id, 'user.set_roles'],
        [admin.client_id, 'role.create'],
      ]);
    });

    it('finds acme as if it did not exist (404) and cannot use platform routes (403)', async () => {
      for (const [method, path, body] of [
        ['GET', '/tenants/acme'],
        ['GET', '/tenants/acme/roles'],
        ['GET', '/tenants/acme/users'],
        ['POST', '/tenants/acme/roles', { name: 'intruder', permissions: ['iam:admin'] }],
        ['PUT', '/tenants/acme/users/peter', { roles: [] }],
      ] as const) {
        const answer = await api(adminToken, method, path, body);
        expect({ path, method, status: answer.status, type: answer.json.type }).toEqual({ path, method, status: 404, type: 'urn:citadel:iam:problem:tenant-not-found' });
      }
      expect((await api(adminToken, 'GET', '/tenants')).status).toBe(403);
      expect((await api(adminToken, 'PATCH', '/tenants/initech', { status: 'suspended' })).status).toBe(403);
      expect((await api(platformToken, 'GET', '/tenants/acme/roles/intruder')).status).toBe(404);
    });
  });
});
