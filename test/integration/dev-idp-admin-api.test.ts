/**
 * The dev IdP's admin API reads and replaces a client by id as Ory Hydra's does (client/handler.go,
 * persistence/sql/persister_client.go), and no more kindly: it never hands out a registration
 * access token, and a replacement kills the client's registration access tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';

interface Registered {
  client_id: string;
  client_secret: string;
  registration_client_uri: string;
  registration_access_token: string;
}

describe('dev IdP admin API: one client by id, as Hydra', () => {
  let idp: DevIdp;
  const bearer = () => ({ authorization: `Bearer ${idp.initialAccessToken}` });
  const at = (id: string) => `${idp.adminApiUrl}/clients/${encodeURIComponent(id)}`;
  const put = (id: string, body: unknown) =>
    fetch(at(id), { method: 'PUT', headers: { ...bearer(), 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const get = (id: string) => fetch(at(id), { headers: bearer() });
  const rfc7592Read = (client: Registered) => fetch(client.registration_client_uri, { headers: { authorization: `Bearer ${client.registration_access_token}` } });
  const tokenWith = (client_id: string, client_secret: string) =>
    idp.clientCredentialsToken({ client_id, client_secret }).then(
      () => 'token',
      () => 'refused',
    );

  async function register(): Promise<Registered> {
    const response = await fetch(idp.registrationEndpoint, {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'svc', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'iam', software_id: 'admin-api-one' }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as Registered;
  }

  beforeAll(async () => {
    idp = await startDevIdp({ adminSubject: 'admin-api-one' });
  });
  afterAll(() => idp.stop());

  it('reads a client without its secret or any registration access token', async () => {
    const client = await register();
    const response = await get(client.client_id);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ client_id: client.client_id, client_name: 'svc', software_id: 'admin-api-one', created_at: expect.stringMatching(/^\d{4}-/) });
    for (const member of ['client_secret', 'registration_access_token', 'registration_client_uri']) expect(body).not.toHaveProperty(member);
    expect((await rfc7592Read(client)).status).toBe(200); // reading costs the token nothing
  });

  it('answers 404 for a client it does not have, and 401 without the admin credential', async () => {
    for (const response of [await get('no-such-client'), await put('no-such-client', { client_name: 'x' })]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found', error_description: 'Unable to locate the resource' });
    }
    const client = await register();
    expect((await fetch(at(client.client_id))).status).toBe(401);
    expect((await fetch(at(client.client_id), { method: 'PUT', body: '{}' })).status).toBe(401);
  });

  it('replaces the client with the body, keeps the secret, and kills its registration access token', async () => {
    const client = await register();
    const response = await put(client.client_id, { client_name: 'renamed', grant_types: ['client_credentials'], response_types: [], redirect_uris: [], software_id: 'admin-api-one' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ client_id: client.client_id, client_name: 'renamed' });
    expect(body).not.toHaveProperty('client_secret');
    expect(body).not.toHaveProperty('scope'); // left out of the body: reset, as Hydra's PUT does
    expect(await tokenWith(client.client_id, client.client_secret)).toBe('token');
    expect((await rfc7592Read(client)).status).toBe(401);
  });

  it('takes a client_secret in the body as the new secret: echoed once, the old one refused at once', async () => {
    const client = await register();
    const secret = 'a-new-secret-of-enough-length';
    const response = await put(client.client_id, { client_name: 'svc', grant_types: ['client_credentials'], response_types: [], client_secret: secret });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ client_secret: secret });
    expect([await tokenWith(client.client_id, client.client_secret), await tokenWith(client.client_id, secret)]).toEqual(['refused', 'token']);
    expect(await (await get(client.client_id)).json()).not.toHaveProperty('client_secret');
  });

  it('refuses a body it cannot take and changes nothing', async () => {
    const client = await register();
    const refusals = [
      [await put(client.client_id, { grant_types: ['no-such-grant'], response_types: [], redirect_uris: [] }), 'invalid_client_metadata'],
      [await put(client.client_id, { grant_types: ['client_credentials'], response_types: [], client_secret: 'short' }), 'invalid_client_metadata'],
      [await put(client.client_id, 'not json'), 'invalid_request'],
      [await put(client.client_id, ['an', 'array']), 'invalid_request'],
    ] as const;
    for (const [response, error] of refusals) {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error });
    }
    expect((await rfc7592Read(client)).status).toBe(200);
    expect(await tokenWith(client.client_id, client.client_secret)).toBe('token');
  });
});
