import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startDevIdp, type DevIdp } from '../../local/dev-idp.js';
import { inventoryClient, type InventoryClientOptions } from '../../lib/adapters/oidc/inventory-client.js';
import { registrationClient } from '../../lib/adapters/oidc/registration-client.js';
import { IdpClientGoneError, IdpTokenRejectedError, IdpUnavailableError, type ClientMetadata } from '../../lib/admin/idp-admin.js';
import { createLogger } from '../../lib/observability/logger.js';
import { expectUnavailable, HOSTILE_SOFTWARE_ID, idpErrorCounter, useHostileIdp, type Misbehaviour } from '../support/hostile-idp.js';

const SOFTWARE_ID = 'iam-service-test';
const log = createLogger('error', {}, () => {});

const metadata: ClientMetadata = {
  client_name: 'reports',
  grant_types: ['client_credentials'],
  redirect_uris: [],
  scope: 'iam',
  token_endpoint_auth_method: 'client_secret_basic',
};

async function tokenStatus(idp: DevIdp, client_id: string, client_secret: string): Promise<{ status: number; error: unknown }> {
  const basic = Buffer.from(`${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`).toString('base64');
  const response = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return { status: response.status, error: ((await response.json()) as { error?: unknown }).error };
}

describe('inventory client against the dev IdP', () => {
  let idp: DevIdp;
  let metrics: ReturnType<typeof idpErrorCounter>;
  const registrar = (softwareId: string) =>
    registrationClient({
      issuer: idp.issuer,
      registrationEndpoint: idp.registrationEndpoint,
      softwareId,
      credentials: async () => ({ initialAccessToken: idp.initialAccessToken }),
      timeoutMs: 5000,
      maxResponseBytes: 64 * 1024,
      metrics,
      log,
    });
  const inventory = (overrides: Partial<InventoryClientOptions> = {}) =>
    inventoryClient({
      adminUrl: idp.adminApiUrl,
      softwareId: SOFTWARE_ID,
      credentials: async () => ({ initialAccessToken: idp.initialAccessToken }),
      timeoutMs: 5000,
      maxResponseBytes: 64 * 1024,
      metrics,
      log,
      ...overrides,
    });

  // A fresh IdP per test: each one counts exactly the clients it registered.
  beforeEach(async () => {
    idp = await startDevIdp({ adminSubject: 'test-platform-admin' });
    metrics = idpErrorCounter();
  });
  afterEach(() => idp.stop());

  it('lists exactly the clients registered with its software_id', async () => {
    const started = Date.now();
    const ours = await Promise.all(['a', 'b', 'c'].map((name) => registrar(SOFTWARE_ID).register({ ...metadata, client_name: name })));
    await registrar('someone-else').register(metadata);

    const listed = await inventory().list();
    expect(listed.map((client) => client.client_id).sort()).toEqual(ours.map((client) => client.client_id).sort());
    const first = listed.find((client) => client.client_id === ours[0]!.client_id)!;
    expect(first).toEqual({ ...metadata, client_name: 'a', client_id: ours[0]!.client_id, issuedAt: expect.any(Date) });
    expect(first.issuedAt!.getTime()).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000);
    expect(first.issuedAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(metrics.calls).toEqual([]);
  });

  it('follows next links until the last page', async () => {
    const ours: string[] = [];
    for (let i = 0; i < 5; i++) ours.push((await registrar(SOFTWARE_ID).register(metadata)).client_id);
    await registrar('someone-else').register(metadata);
    await registrar('someone-else').register(metadata);
    const pages: string[] = [];
    const spy: typeof fetch = async (input, init) => (pages.push(String(input)), fetch(input, init));

    const listed = await inventory({ pageSize: 2, fetch: spy }).list();
    expect(listed.map((client) => client.client_id).sort()).toEqual(ours.sort());
    expect(pages).toHaveLength(4); // 7 clients, 2 a page
    expect(pages.slice(1).every((page) => new URL(page).searchParams.has('page_token'))).toBe(true);
  });

  it('lists nothing from an IdP that holds none of its clients', async () => {
    await registrar('someone-else').register(metadata);
    expect(await inventory().list()).toEqual([]);
  });

  it('deletes a client by id without its registration access token', async () => {
    const created = await registrar(SOFTWARE_ID).register(metadata);
    expect((await tokenStatus(idp, created.client_id, created.client_secret!)).status).toBe(200);

    await inventory().delete(created.client_id);
    expect(await tokenStatus(idp, created.client_id, created.client_secret!)).toEqual({ status: 401, error: 'invalid_client' });
    const read = await fetch(created.registration_client_uri, { headers: { authorization: `Bearer ${created.registration_access_token}` } });
    expect([401, 404]).toContain(read.status);
    expect(await inventory().list()).toEqual([]);
    expect(metrics.calls).toEqual([]);
  });

  it('replaces a client by id without its registration access token, which the IdP then refuses, as Hydra does', async () => {
    const created = await registrar(SOFTWARE_ID).register(metadata);
    const wanted = { ...metadata, client_name: 'renamed', scope: '' };
    expect(await inventory().replace(created.client_id, wanted)).toEqual(wanted);
    expect(await inventory().list()).toEqual([{ ...wanted, client_id: created.client_id, issuedAt: expect.any(Date) }]);
    expect((await tokenStatus(idp, created.client_id, created.client_secret!)).status).toBe(200); // the secret is kept
    await expect(registrar(SOFTWARE_ID).read(created)).rejects.toBeInstanceOf(IdpTokenRejectedError);
    expect(metrics.calls).toEqual([]);
  });

  it('replaces the secret when asked: the new one works at once, the old one no more', async () => {
    const created = await registrar(SOFTWARE_ID).register(metadata);
    const replaced = await inventory().replace(created.client_id, metadata, { newSecret: true });
    expect(replaced).toEqual({ ...metadata, client_secret: expect.stringMatching(/^[\w-]{43}$/) });
    expect(await tokenStatus(idp, created.client_id, created.client_secret!)).toEqual({ status: 401, error: 'invalid_client' });
    expect((await tokenStatus(idp, created.client_id, replaced.client_secret!)).status).toBe(200);
    expect(JSON.stringify(await inventory().list())).not.toContain(replaced.client_secret);
  });

  it('answers IdpClientGoneError for replacing a client the IdP does not have', async () => {
    await expect(inventory().replace('no-such-client', metadata)).rejects.toBeInstanceOf(IdpClientGoneError);
    expect(metrics.calls).toEqual([]);
  });

  it('counts deleting a client the IdP does not know as done', async () => {
    await expect(inventory().delete('no-such-client')).resolves.toBeUndefined();
    expect(metrics.calls).toEqual([]);
  });

  it('reports a wrong initial access token as the IdP being unavailable, after one re-read', async () => {
    let reads = 0;
    const wrong = inventory({ credentials: async () => (reads++, { initialAccessToken: 'not-the-token' }) });
    await expect(wrong.list()).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(reads).toBe(2);
    await expect(wrong.delete('some-client')).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(metrics.calls).toEqual(['list', 'delete']);
  });
});

describe('inventory client against a misbehaving IdP', () => {
  const hostile = useHostileIdp();
  const client = (overrides: Partial<InventoryClientOptions> = {}) =>
    inventoryClient({ adminUrl: hostile.idp.adminApiUrl, softwareId: HOSTILE_SOFTWARE_ID, ...hostile.options(), ...overrides });

  async function failsBounded(mode: Misbehaviour, operation: 'list' | 'delete' | 'update', overrides: Partial<InventoryClientOptions> = {}) {
    hostile.idp.behave(mode);
    const inventory = client(overrides);
    const calls = { list: () => inventory.list(), delete: () => inventory.delete('ours-1'), update: () => inventory.replace('ours-1', metadata) };
    await expectUnavailable(hostile, operation, calls[operation]);
  }

  it('keeps only its own clients, reading Hydra nulls as unset and created_at as the issue time', async () => {
    expect(await client().list()).toEqual([
      {
        client_id: 'ours-1',
        client_name: 'reports',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        scope: 'iam',
        token_endpoint_auth_method: 'client_secret_basic',
        issuedAt: new Date('2024-05-06T07:08:09Z'),
      },
      {
        client_id: 'ours-2',
        client_name: '',
        grant_types: [],
        redirect_uris: [],
        scope: '',
        token_endpoint_auth_method: '',
        issuedAt: new Date(1700000000 * 1000),
      },
    ]);
    expect(hostile.idp.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/admin/clients?page_size=200', authorization: 'Bearer iat-1' })]);
  });

  it('re-reads the credentials once after a 401 and lists with the new ones', async () => {
    hostile.idp.behave('unauthorizedOnce');
    expect(await client().list()).toHaveLength(2);
    expect(hostile.credentialReads).toBe(2);
    expect(hostile.idp.requests.map((r) => r.authorization)).toEqual(['Bearer iat-1', 'Bearer iat-2']);
    expect(hostile.metrics.calls).toEqual([]);
  });

  it('re-reads the credentials once after a 401 and deletes with the new ones', async () => {
    hostile.idp.behave('unauthorizedOnce');
    await client().delete('a client/with odd?chars');
    expect(hostile.idp.requests.map((r) => `${r.method} ${r.path} ${r.authorization}`)).toEqual([
      'DELETE /admin/clients/a%20client%2Fwith%20odd%3Fchars Bearer iat-1',
      'DELETE /admin/clients/a%20client%2Fwith%20odd%3Fchars Bearer iat-2',
    ]);
    expect(hostile.metrics.calls).toEqual([]);
  });

  it('gives up on a list that never comes within the timeout', async () => {
    await failsBounded('hang', 'list');
  });

  it('reports a 500 on list as the IdP being unavailable', async () => {
    await failsBounded('status500', 'list');
  });

  it('stops reading a 5 MB list at the byte cap', async () => {
    await failsBounded('huge', 'list');
  });

  it('refuses a list that is not a JSON array', async () => {
    await failsBounded('notArray', 'list');
  });

  it('refuses a next link to another origin without following it', async () => {
    await failsBounded('foreignLink', 'list');
    expect(hostile.idp.requests).toHaveLength(1);
    expect(hostile.idp.requests.some((r) => r.host?.startsWith('localhost'))).toBe(false);
  });

  it('gives up on endless next links after maxPages pages rather than return a part', async () => {
    await failsBounded('endlessLinks', 'list', { maxPages: 5 });
    expect(hostile.idp.requests.map((r) => r.path)).toEqual([
      '/admin/clients?page_size=200',
      ...[1, 2, 3, 4].map((page) => `/admin/clients?page_token=${page}`),
    ]);
  });

  it('refuses the whole list when one of its own clients is malformed', async () => {
    const malformed: typeof fetch = async () =>
      new Response(JSON.stringify([{ client_id: 'ours-1', software_id: HOSTILE_SOFTWARE_ID }, { client_id: '', software_id: HOSTILE_SOFTWARE_ID }]), {
        status: 200,
      });
    await expect(client({ fetch: malformed }).list()).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(hostile.metrics.calls).toEqual(['list']);
  });

  it('reports a 500 on delete as the IdP being unavailable', async () => {
    await failsBounded('status500', 'delete');
  });

  it('gives up on a delete that never answers within the timeout', async () => {
    await failsBounded('hang', 'delete');
  });

  it('replaces by reading the client and sending it back with our metadata over it, keeping what it does not manage', async () => {
    const wanted = { ...metadata, client_name: 'renamed' };
    expect(await client().replace('ours 1', wanted, { newSecret: true })).toEqual({ ...metadata, client_secret: expect.any(String) });
    expect(hostile.idp.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /admin/clients/ours%201', 'PUT /admin/clients/ours%201']);
    const sent = JSON.parse(hostile.idp.requests[1]!.body) as Record<string, unknown>;
    expect(sent).toEqual({
      ...wanted,
      client_id: 'ours 1',
      software_id: HOSTILE_SOFTWARE_ID,
      response_types: [],
      audience: ['urn:kept'],
      created_at: '2024-05-06T07:08:09Z',
      client_secret: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(hostile.metrics.calls).toEqual([]);
  });

  it('refuses an answer about another client, or one that is not a client', async () => {
    const answering = (body: unknown): typeof fetch => async () => new Response(JSON.stringify(body), { status: 200 });
    await expect(client({ fetch: answering({ client_id: 'someone-else' }) }).replace('ours-1', metadata)).rejects.toBeInstanceOf(IdpUnavailableError);
    await expect(client({ fetch: answering(['ours-1']) }).replace('ours-1', metadata)).rejects.toBeInstanceOf(IdpUnavailableError);
    await expect(client({ fetch: answering({ client_id: 'ours-1', error: 'server_error' }) }).replace('ours-1', metadata)).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(hostile.metrics.calls).toEqual(['update', 'update', 'update']);
  });

  it('reports a 500 on replace as the IdP being unavailable', async () => {
    await failsBounded('status500', 'update');
  });

  it('gives up on a replace that never answers within the timeout', async () => {
    await failsBounded('hang', 'update');
  });

  it('stops reading a 5 MB client at the byte cap', async () => {
    await failsBounded('huge', 'update');
  });

  it('refuses to delete a client id that is a dot segment', async () => {
    await expect(client().delete('..')).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(hostile.idp.requests).toEqual([]);
  });
});
