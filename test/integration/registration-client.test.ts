import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ROTATE_CLIENT_SECRET_MEMBER as DEV_IDP_MEMBER, startDevIdp, type DevIdp } from '../../local/dev-idp.js';
import {
  ROTATE_CLIENT_SECRET_MEMBER,
  registrationClient,
  type RegistrationClientOptions,
} from '../../lib/adapters/oidc/registration-client.js';
import { oidcDiscovery, type OidcDiscovery } from '../../lib/adapters/oidc/discovery.js';
import { inventoryClient } from '../../lib/adapters/oidc/inventory-client.js';
import { clientCredentialsRegistration } from '../../lib/adapters/oidc/registration-credential.js';
import { idpTransport, type IdpTransport } from '../../lib/adapters/oidc/transport.js';
import { IdpClientGoneError, IdpRejectedError, IdpTokenRejectedError, IdpUnavailableError, type ClientMetadata } from '../../lib/admin/idp-admin.js';
import { createLogger } from '../../lib/observability/logger.js';
import { expectUnavailable, HOSTILE_MARGIN_MS, HOSTILE_TIMEOUT_MS, idpErrorCounter, useHostileIdp, type Misbehaviour } from '../support/hostile-idp.js';

const SOFTWARE_ID = 'iam-service-test';
const log = createLogger('error', {}, () => {});

const metadata: ClientMetadata = {
  client_name: 'reports',
  grant_types: ['client_credentials'],
  redirect_uris: [],
  scope: 'iam',
  token_endpoint_auth_method: 'client_secret_basic',
};

async function tokenStatus(idp: DevIdp, client_id: string, client_secret: string): Promise<number> {
  const basic = Buffer.from(`${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`).toString('base64');
  const response = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  await response.arrayBuffer();
  return response.status;
}

describe('registration client against the dev IdP', () => {
  let idp: DevIdp;
  let metrics: ReturnType<typeof idpErrorCounter>;
  let admin: ReturnType<typeof registrationClient>;

  beforeAll(async () => {
    idp = await startDevIdp({ adminSubject: 'test-platform-admin' });
  });
  afterAll(() => idp.stop());
  beforeEach(() => {
    metrics = idpErrorCounter();
    // No registrationEndpoint: discovered through openid-client.
    admin = registrationClient({
      issuer: idp.issuer,
      softwareId: SOFTWARE_ID,
      credentials: async () => ({ initialAccessToken: idp.initialAccessToken }),
      timeoutMs: 5000,
      maxResponseBytes: 64 * 1024,
      metrics,
      log,
    });
  });

  it('asks for rotation with the member the dev IdP honours', () => {
    expect(ROTATE_CLIENT_SECRET_MEMBER).toBe(DEV_IDP_MEMBER);
  });

  it('registers, reads, updates, rotates the secret of and deletes a client', async () => {
    const created = await admin.register(metadata);
    expect(created).toMatchObject({ ...metadata, registration_client_uri: `${idp.registrationEndpoint}/${created.client_id}` });
    expect(created.client_secret).toEqual(expect.any(String));
    expect(await tokenStatus(idp, created.client_id, created.client_secret!)).toBe(200);

    expect(await admin.read(created)).toEqual({
      ...metadata,
      client_id: created.client_id,
      registration_client_uri: created.registration_client_uri,
      registration_access_token: created.registration_access_token,
    });

    const updated = await admin.update(created, { ...metadata, client_name: 'reports v2' });
    expect(updated.client_name).toBe('reports v2');
    expect(updated).not.toHaveProperty('client_secret');
    // oidc-provider rotates the registration access token on update: the old one is dead.
    expect(updated.registration_access_token).not.toBe(created.registration_access_token);
    await expect(admin.read(created)).rejects.toBeInstanceOf(IdpTokenRejectedError);
    expect((await admin.read(updated))?.client_name).toBe('reports v2');
    expect(await tokenStatus(idp, created.client_id, created.client_secret!)).toBe(200);

    const rotated = await admin.rotateSecret(updated, { ...metadata, client_name: 'reports v2' });
    expect(rotated.client_secret).not.toBe(created.client_secret);
    expect(await tokenStatus(idp, created.client_id, created.client_secret!)).toBe(401);
    expect(await tokenStatus(idp, created.client_id, rotated.client_secret)).toBe(200);

    await admin.delete(rotated);
    expect(await tokenStatus(idp, created.client_id, rotated.client_secret)).toBe(401);
    // RFC 7592 §2.1: a client gone and a token refused look alike (401); neither is taken as "deleted".
    await expect(admin.read(rotated)).rejects.toBeInstanceOf(IdpTokenRejectedError);
    await expect(admin.delete(rotated)).rejects.toBeInstanceOf(IdpTokenRejectedError);
    await expect(admin.update(rotated, metadata)).rejects.toBeInstanceOf(IdpTokenRejectedError);
    expect(metrics.calls).toEqual([]);
  });

  it('tags the registration with its software_id, which the IdP keeps across an update', async () => {
    const softwareIdOf = async (ref: { registration_client_uri: string; registration_access_token: string }) => {
      const response = await fetch(ref.registration_client_uri, { headers: { authorization: `Bearer ${ref.registration_access_token}` } });
      return ((await response.json()) as { software_id?: unknown }).software_id;
    };
    const created = await admin.register(metadata);
    expect(await softwareIdOf(created)).toBe(SOFTWARE_ID);
    const updated = await admin.update(created, { ...metadata, client_name: 'reports v2' });
    expect(await softwareIdOf(updated)).toBe(SOFTWARE_ID);
    await admin.delete(updated);
  });

  it('passes on the IdP refusing an invalid redirect URI as invalid_redirect_uri', async () => {
    const refused = admin.register({ ...metadata, grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb#fragment'] });
    await expect(refused).rejects.toBeInstanceOf(IdpRejectedError);
    await expect(refused).rejects.toMatchObject({ status: 400, code: 'bad-request', idpError: 'invalid_redirect_uri', extensions: { error: 'invalid_redirect_uri' }, expose: true });
    expect(metrics.calls).toEqual([]);
  });

  it('passes on the IdP refusing an unknown grant type as invalid_client_metadata', async () => {
    await expect(admin.register({ ...metadata, grant_types: ['client_credentials', 'telepathy'] })).rejects.toMatchObject({
      status: 400,
      extensions: { error: 'invalid_client_metadata' },
    });
  });

  it('reports a wrong initial access token as the IdP being unavailable, after one re-read', async () => {
    let reads = 0;
    const wrong = registrationClient({
      issuer: idp.issuer,
      softwareId: SOFTWARE_ID,
      credentials: async () => (reads++, { initialAccessToken: 'not-the-token' }),
      timeoutMs: 5000,
      maxResponseBytes: 64 * 1024,
      metrics,
      log,
    });
    await expect(wrong.register(metadata)).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(reads).toBe(2);
    expect(metrics.calls).toEqual(['create']);
  });
});

describe('registration client against a misbehaving IdP', () => {
  const hostile = useHostileIdp();
  const ref = () => ({ client_id: 'client-1', registration_client_uri: `${hostile.idp.issuer}/reg/client-1`, registration_access_token: 'rat-1' });

  const client = (overrides: Partial<RegistrationClientOptions> = {}) =>
    registrationClient({
      issuer: hostile.idp.issuer,
      registrationEndpoint: hostile.idp.registrationEndpoint,
      softwareId: SOFTWARE_ID,
      ...hostile.options(),
      ...overrides,
    });

  async function failsBounded(mode: Misbehaviour, operation: 'create' | 'read' | 'update' | 'rotate' | 'delete') {
    hostile.idp.behave(mode);
    const admin = client();
    const calls = {
      create: () => admin.register(metadata),
      read: () => admin.read(ref()),
      update: () => admin.update(ref(), metadata),
      rotate: () => admin.rotateSecret(ref(), metadata),
      delete: () => admin.delete(ref()),
    };
    return expectUnavailable(hostile, operation, calls[operation]);
  }

  it('tells a refused registration access token (401) from a client gone (404), counting neither', async () => {
    const admin = client();
    for (const call of [() => admin.read(ref()), () => admin.update(ref(), metadata), () => admin.rotateSecret(ref(), metadata), () => admin.delete(ref())]) {
      hostile.idp.behave('unauthorizedOnce');
      await expect(call()).rejects.toMatchObject({ constructor: IdpTokenRejectedError, clientId: 'client-1', status: 502 });
    }
    const gone = client({ fetch: async () => new Response(JSON.stringify({ error: 'not_found' }), { status: 404 }) });
    expect(await gone.read(ref())).toBeUndefined();
    await expect(gone.update(ref(), metadata)).rejects.toBeInstanceOf(IdpClientGoneError);
    await expect(gone.rotateSecret(ref(), metadata)).rejects.toBeInstanceOf(IdpClientGoneError);
    await expect(gone.delete(ref())).resolves.toBeUndefined();
    expect(hostile.metrics.calls).toEqual([]);
  });

  it('gives up on an IdP that never answers within the timeout', async () => {
    expect(await failsBounded('hang', 'create')).toBeGreaterThanOrEqual(HOSTILE_TIMEOUT_MS - 50);
  });

  it('gives up on a body that trickles in past the timeout', async () => {
    expect(await failsBounded('slow', 'read')).toBeGreaterThanOrEqual(HOSTILE_TIMEOUT_MS - 50);
  });

  it('reports a 500 as the IdP being unavailable', async () => {
    await failsBounded('status500', 'update');
  });

  it('treats a 200 carrying an error member as a failure', async () => {
    await failsBounded('error200', 'rotate');
  });

  it('stops reading a 5 MB body at the byte cap', async () => {
    await failsBounded('huge', 'read');
  });

  it('reports a 500 on delete as the IdP being unavailable', async () => {
    await failsBounded('status500', 'delete');
  });

  it('refuses a registration_client_uri that points away from the IdP', async () => {
    await failsBounded('foreignUri', 'create');
  });

  it('hides a 4xx error code that is not an RFC 7591 one', async () => {
    hostile.idp.behave('rejectOddCode');
    const error = await client().register(metadata).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdpRejectedError);
    expect(error).toMatchObject({ status: 400, code: 'bad-request', extensions: { error: 'invalid_request' }, message: 'The identity provider rejected the request.' });
    expect(hostile.metrics.calls).toEqual([]);
  });

  it('keeps only known members of a response with extra fields', async () => {
    hostile.idp.behave('extraFields');
    const created = await client().register(metadata);
    expect(Object.keys(created).sort()).toEqual(
      [...Object.keys(metadata), 'client_id', 'client_secret', 'registration_access_token', 'registration_client_uri'].sort(),
    );
    expect(JSON.stringify(created)).not.toMatch(/surprise|script|nested/);
  });

  it('re-reads the credentials once after a 401 and succeeds with the new ones', async () => {
    hostile.idp.behave('unauthorizedOnce');
    const created = await client().register(metadata);
    expect(created.client_id).toBe('client-1');
    expect(hostile.credentialReads).toBe(2);
    expect(hostile.idp.requests.map((r) => r.authorization)).toEqual(['Bearer iat-1', 'Bearer iat-2']);
    expect(hostile.metrics.calls).toEqual([]);
  });

  it('sends the rotation request member on rotateSecret only', async () => {
    const bodies: unknown[] = [];
    const spy: typeof fetch = async (input, init) => {
      if (init?.body) bodies.push(JSON.parse(String(init.body)));
      return fetch(input, init);
    };
    await client({ fetch: spy }).update(ref(), metadata);
    await client({ fetch: spy }).rotateSecret(ref(), metadata);
    expect(bodies).toEqual([
      expect.not.objectContaining({ [ROTATE_CLIENT_SECRET_MEMBER]: expect.anything() }),
      expect.objectContaining({ client_id: 'client-1', [ROTATE_CLIENT_SECRET_MEMBER]: true, response_types: [] }),
    ]);
  });

  it('sends its software_id on registration and on every update', async () => {
    const bodies: Array<{ method: string | undefined; body: unknown }> = [];
    const spy: typeof fetch = async (input, init) => {
      if (init?.body) bodies.push({ method: init.method, body: JSON.parse(String(init.body)) });
      return fetch(input, init);
    };
    await client({ fetch: spy }).register(metadata);
    await client({ fetch: spy }).update(ref(), metadata);
    await client({ fetch: spy }).rotateSecret(ref(), metadata);
    expect(bodies).toEqual(['POST', 'PUT', 'PUT'].map((method) => ({ method, body: expect.objectContaining({ software_id: SOFTWARE_ID }) })));
  });

  it('logs a failure as "failed to <operation> client in upstream IdP" with its status and no token', async () => {
    const lines: string[] = [];
    hostile.idp.behave('status500');
    await expect(client({ log: createLogger('info', {}, (line) => lines.push(line)) }).update(ref(), metadata)).rejects.toBeInstanceOf(
      IdpUnavailableError,
    );
    const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.level === 'warn');
    expect(warnings).toEqual([expect.objectContaining({ msg: 'failed to update client in upstream IdP', operation: 'update', status: 500 })]);
    expect(lines.join('\n')).not.toMatch(/rat-1|iat-|server_error/);
  });

  it('counts a failed discovery once and tries discovery again on the next call', async () => {
    const discovering = client({ registrationEndpoint: undefined });
    hostile.idp.behave('honest', 'huge');
    const started = performance.now();
    await expect(discovering.register(metadata)).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(performance.now() - started).toBeLessThan(HOSTILE_TIMEOUT_MS + HOSTILE_MARGIN_MS);
    expect(hostile.metrics.calls).toEqual(['discovery']);

    hostile.idp.behave('honest', 'hang');
    await expect(discovering.register(metadata)).rejects.toBeInstanceOf(IdpUnavailableError);
    expect(hostile.metrics.calls).toEqual(['discovery', 'discovery']);

    hostile.idp.behave('honest');
    expect((await discovering.register(metadata)).client_id).toBe('client-1');
  });
});

describe('registration authorized by a client-credentials token (RAUTH_REGISTRATION_CREDENTIAL=client-credentials)', () => {
  const REPORTER = { client_id: 'reporter-without-registration-scope', client_secret: 'reporter-secret-0123456789' };
  let idp: DevIdp;
  let metrics: ReturnType<typeof idpErrorCounter>;
  let transport: IdpTransport;
  let discovery: OidcDiscovery;

  beforeAll(async () => {
    idp = await startDevIdp({ adminSubject: 'cc-registration-admin', extraClients: [REPORTER] });
  });
  afterAll(() => idp.stop());
  beforeEach(() => {
    metrics = idpErrorCounter();
    transport = idpTransport({ timeoutMs: 5000, maxResponseBytes: 64 * 1024, metrics, log });
    discovery = oidcDiscovery({ issuer: idp.issuer, transport, timeoutMs: 5000 });
  });

  const credentialsFor = (clients: Array<{ id: string; secret: string } | undefined>, resource = idp.registrationResource) => {
    const reads: boolean[] = [];
    const credentials = clientCredentialsRegistration({
      discovery,
      transport,
      adminClient: async (options) => (reads.push(options?.fresh === true), clients[Math.min(reads.length - 1, clients.length - 1)]),
      scope: idp.registrationScope,
      resource,
      missing: () => new Error('no admin client'),
    });
    return { credentials, reads };
  };
  const admin = () => ({ id: idp.admin.client_id, secret: idp.admin.client_secret });
  const adapters = (credentials: ReturnType<typeof credentialsFor>['credentials']) => {
    const common = { credentials, transport, timeoutMs: 5000, maxResponseBytes: 64 * 1024, metrics, log, softwareId: SOFTWARE_ID };
    return { client: registrationClient({ ...common, issuer: idp.issuer, discovery }), inventory: inventoryClient({ ...common, adminUrl: idp.adminApiUrl }) };
  };

  it('registers, manages and lists clients with the admin client’s token, obtained once and reused', async () => {
    const { credentials, reads } = credentialsFor([admin()]);
    const { client, inventory } = adapters(credentials);
    const created = await client.register(metadata);
    expect(created.client_secret).toEqual(expect.any(String));
    expect(await tokenStatus(idp, created.client_id, created.client_secret!)).toBe(200);
    const second = await client.register({ ...metadata, client_name: 'second' });
    expect((await inventory.list()).map((c) => c.client_id)).toEqual(expect.arrayContaining([created.client_id, second.client_id]));
    // The registration access tokens it returned are RFC 7592's, as with a static initial access token.
    const updated = await client.update(created, { ...metadata, client_name: 'reports v2' });
    expect(updated.client_name).toBe('reports v2');
    await client.delete(updated);
    await inventory.delete(second.client_id);
    expect(reads).toEqual([false]); // one grant served every call
    expect(metrics.calls).toEqual([]);
  });

  it('gives the rotated admin secret one re-read when the grant is refused', async () => {
    const { credentials, reads } = credentialsFor([{ id: idp.admin.client_id, secret: 'an-old-secret' }, admin()]);
    const created = await adapters(credentials).client.register(metadata);
    expect(created.client_id).toEqual(expect.any(String));
    expect(reads).toEqual([false, true]);
    expect(metrics.calls).toEqual([]);
  });

  it('counts admin credentials the IdP keeps refusing as "token", without calling registration', async () => {
    const { credentials, reads } = credentialsFor([{ id: idp.admin.client_id, secret: 'wrong' }]);
    const error = await adapters(credentials).client.register(metadata).catch((e: unknown) => e);
    expect(error).toMatchObject({ constructor: IdpUnavailableError, status: 502, code: 'idp-unavailable', operation: 'token' });
    expect(reads).toEqual([false, true]);
    expect(metrics.calls).toEqual(['token']);
  });

  it('is refused a token for the iam-service audience: the IdP takes only one for its registration resource', async () => {
    const { credentials } = credentialsFor([admin()], idp.audience);
    // The grant works (the admin client may have an iam token) but registration refuses it twice.
    await expect(adapters(credentials).client.register(metadata)).rejects.toMatchObject({ constructor: IdpUnavailableError, operation: 'create' });
    expect(metrics.calls).toEqual(['create']);
    const listed = await fetch(`${idp.adminApiUrl}/clients`, { headers: { authorization: `Bearer ${await idp.clientCredentialsToken(idp.admin)}` } });
    expect(listed.status).toBe(401);
  });

  it('is not granted a registration token for a client without the registration scope', async () => {
    const { credentials } = credentialsFor([{ id: REPORTER.client_id, secret: REPORTER.client_secret }]);
    await expect(adapters(credentials).client.register(metadata)).rejects.toMatchObject({ constructor: IdpUnavailableError, operation: 'token' });
    expect(metrics.calls).toEqual(['token']);
  });
});
