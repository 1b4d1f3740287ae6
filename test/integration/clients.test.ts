/**
 * OAuth clients through the admin API against the real dev IdP: the secret once, machine tokens
 * enriched as `subject_type: client`, rotation and deletion as the IdP enforces them, one
 * CloudEvent and one audit row per change, and RFC 7591 error codes for bad metadata.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AdminStack, ENRICH_KEY, startAdminStack } from '../support/admin-stack.js';
import { changes } from '../support/changes.js';
import { expectProblem } from '../support/problem.js';

describe('OAuth clients', () => {
  let stack: AdminStack;
  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => stack.call('platformAdmin', method, path, body, headers);

  async function enrich(subject: string): Promise<{ status: number; json: any }> {
    const response = await fetch(`${stack.url}/system/enrich-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ENRICH_KEY },
      body: JSON.stringify({ subject }),
    });
    return { status: response.status, json: await response.json() };
  }

  /** The standard client-credentials grant at the IdP: the token, or the IdP's error code. */
  async function token(clientId: string, secret: string): Promise<{ token?: string; error?: string }> {
    try {
      return { token: await stack.idp.clientCredentialsToken({ client_id: clientId, client_secret: secret }) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  beforeAll(async () => {
    stack = await startAdminStack();
    await admin('POST', '/tenants/acme/roles', { name: 'billing-reader', permissions: ['invoices:read', 'invoices:list'] });
  });
  afterAll(() => stack.stop());

  it('lives from create to delete as the IdP and enrich-token see it, one event and one audit row per change', async () => {
    // Create: the secret comes back once, with Location and ETag.
    const created = await changes(stack.db, () =>
      admin('POST', '/tenants/acme/clients', { client_name: 'Billing exporter', roles: ['billing-reader'], scope: 'iam' }),
    );
    const c = created.result;
    expect(c.status).toBe(201);
    const clientId: string = c.json.client_id;
    expect(c.json).toEqual({
      client_id: clientId,
      tenant: 'acme',
      client_name: 'Billing exporter',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      scope: 'iam',
      token_endpoint_auth_method: 'client_secret_basic',
      roles: ['billing-reader'],
      created_by: expect.any(String),
      created_at: expect.any(String),
      updated_at: expect.any(String),
      client_secret: expect.stringMatching(/^.{32,}$/),
      client_secret_expires_at: 0,
    });
    expect(c.headers.get('location')).toBe(`/tenants/acme/clients/${encodeURIComponent(clientId)}`);
    expect(c.headers.get('etag')).toBe('"v1"');
    expect(created.events.map((e) => e.event.type)).toEqual(['citadel.iam.client.created']);
    expect(created.audit.map((a) => [a.action, a.result])).toEqual([['client.create', 'success']]);
    const firstSecret: string = c.json.client_secret;

    // Never stored, never shown again; the registration access token is sealed at rest.
    const read = await admin('GET', `/tenants/acme/clients/${encodeURIComponent(clientId)}`);
    expect(read.status).toBe(200);
    expect(read.json).not.toHaveProperty('client_secret');
    const [row] = await stack.db.query<{ everything: string }>('test.client_row', 'SELECT row_to_json(c)::text AS everything FROM clients c WHERE client_id = $1', [clientId]);
    expect(row!.everything).not.toContain(firstSecret);
    expect(row!.everything).toMatch(/registration_token_enc/);
    expect(JSON.stringify(created.events)).not.toContain(firstSecret);

    // A machine token from the IdP, enriched as a client with its roles' permissions.
    expect((await token(clientId, firstSecret)).token).toEqual(expect.any(String));
    const enriched = await enrich(clientId);
    expect(enriched).toEqual({
      status: 200,
      json: expect.objectContaining({ subject: clientId, subject_type: 'client', roles: ['billing-reader'], permissions: ['invoices:list', 'invoices:read'] }),
    });

    // Update: name in the IdP too, roles here; ETag moves on.
    const updated = await changes(stack.db, () =>
      admin('PATCH', `/tenants/acme/clients/${encodeURIComponent(clientId)}`, { client_name: 'Billing exporter v2', roles: [] }, { 'if-match': '"v1"' }),
    );
    expect(updated.result.status).toBe(200);
    expect(updated.result.json).toEqual(expect.objectContaining({ client_name: 'Billing exporter v2', roles: [] }));
    expect(updated.result.headers.get('etag')).toBe('"v2"');
    expect(updated.events.map((e) => e.event.type)).toEqual(['citadel.iam.client.updated']);
    expect((await enrich(clientId)).json).toEqual(expect.objectContaining({ roles: [], permissions: [] }));
    const stale = await admin('PATCH', `/tenants/acme/clients/${encodeURIComponent(clientId)}`, { client_name: 'x' }, { 'if-match': '"v1"' });
    expectProblem(stale, 412);

    // Rotate: a new secret once; the IdP refuses the old one at once and accepts the new one.
    const rotated = await changes(stack.db, () => admin('POST', `/tenants/acme/clients/${encodeURIComponent(clientId)}/secret`));
    expect(rotated.result.status).toBe(200);
    const newSecret: string = rotated.result.json.client_secret;
    expect(newSecret).not.toBe(firstSecret);
    expect((await token(clientId, firstSecret)).error).toMatch(/invalid_client/);
    expect((await token(clientId, newSecret)).token).toEqual(expect.any(String));
    expect(rotated.events.map((e) => [e.event.type, JSON.stringify(e.event).includes(newSecret)])).toEqual([['citadel.iam.client.secret_rotated', false]]);

    // Delete: gone from the IdP (no more tokens), from the tenant, and from enrich-token.
    const deleted = await changes(stack.db, () => admin('DELETE', `/tenants/acme/clients/${encodeURIComponent(clientId)}`));
    expect(deleted.result.status).toBe(204);
    expect(deleted.events.map((e) => e.event.type)).toEqual(['citadel.iam.client.deleted']);
    expect((await token(clientId, newSecret)).error).toMatch(/invalid_client/);
    expect((await enrich(clientId)).status).toBe(404);
    expectProblem(await admin('GET', `/tenants/acme/clients/${encodeURIComponent(clientId)}`), 404);
  });

  it('replays an idempotent create without the secret and without a second IdP client', async () => {
    const key = { 'idempotency-key': 'create-once-1' };
    const first = await admin('POST', '/tenants/acme/clients', { client_name: 'Once' }, key);
    const again = await admin('POST', '/tenants/acme/clients', { client_name: 'Once' }, key);
    expect([first.status, first.json.detail]).toEqual([201, undefined]);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.client_id).toBe(first.json.client_id);
    expect(first.json.client_secret).toEqual(expect.any(String));
    expect(again.json).not.toHaveProperty('client_secret');
    const listed = await admin('GET', '/tenants/acme/clients?limit=100');
    expect(listed.json.items.filter((c: { client_name: string }) => c.client_name === 'Once')).toHaveLength(1);
  });

  it('lists a tenant’s clients with keyset pagination and never another tenant’s', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) expect((await admin('POST', '/tenants/globex/clients', { client_name: name })).status).toBe(201);
    const first = await admin('GET', '/tenants/globex/clients?limit=2');
    const second = await admin('GET', `/tenants/globex/clients?limit=2&cursor=${first.json.next_cursor}`);
    const names = [...first.json.items, ...second.json.items].map((c: { client_name: string }) => c.client_name).sort();
    expect(names).toEqual(['page-a', 'page-b', 'page-c']);
    expect(second.json.next_cursor).toBeNull();
    const acme = await admin('GET', '/tenants/acme/clients?limit=100');
    expect(acme.json.items.map((c: { tenant: string }) => c.tenant)).not.toContain('globex');
  });

  it.each([
    ['a redirect URI that is not https', { client_name: 'x', grant_types: ['authorization_code'], redirect_uris: ['http://evil.example/cb'] }, 'invalid_redirect_uri'],
    ['a redirect URI with a fragment', { client_name: 'x', grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb#x'] }, 'invalid_redirect_uri'],
    ['the code grant without a redirect URI', { client_name: 'x', grant_types: ['authorization_code'] }, 'invalid_redirect_uri'],
    ['an unknown grant type', { client_name: 'x', grant_types: ['password'] }, 'invalid_client_metadata'],
    ['an oversized name', { client_name: 'n'.repeat(5000) }, 'invalid_client_metadata'],
    ['a role of another tenant', { client_name: 'x', roles: ['tenant-admin-of-nobody'] }, 'invalid_client_metadata'],
    ['an unknown field', { client_name: 'x', client_secret: 'mine' }, 'invalid_client_metadata'],
    ['a scope with a quote', { client_name: 'x', scope: 'a"b' }, 'invalid_client_metadata'],
  ])('answers %s with 400 and the RFC 7591 error code, registering nothing', async (_case, body, code) => {
    const before = await stack.db.query('test.count_clients', 'SELECT count(*)::int AS n FROM clients');
    const answer = await admin('POST', '/tenants/acme/clients', body);
    expectProblem(answer, 400);
    expect(answer.json.error).toBe(code);
    expect(await stack.db.query('test.count_clients', 'SELECT count(*)::int AS n FROM clients')).toEqual(before);
  });

  it('answers metadata the IdP refuses (but our schema allows) with the same 400 shape, registering nothing', async () => {
    const before = await stack.db.query('test.count_clients', 'SELECT count(*)::int AS n FROM clients');
    const answer = await admin('POST', '/tenants/acme/clients', { client_name: 'x', scope: 'not-a-scope-the-idp-knows' });
    expectProblem(answer, 400);
    expect(answer.json).toMatchObject({ type: 'urn:citadel:iam:problem:bad-request', error: 'invalid_client_metadata' });
    expect(await stack.db.query('test.count_clients', 'SELECT count(*)::int AS n FROM clients')).toEqual(before);
  });

  it('keeps a client’s roles out of reach of the user-mapping API', async () => {
    const created = await admin('POST', '/tenants/acme/clients', { client_name: 'Guarded' });
    const put = await admin('PUT', `/tenants/acme/users/${encodeURIComponent(created.json.client_id)}`, { roles: ['billing-reader'] });
    expectProblem(put, 409);
  });
});
