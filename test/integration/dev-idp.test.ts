import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startDevIdp, type DevIdp, type DevIdpClient } from '../../local/dev-idp.js';
import { mintAccessToken } from '../support/dev-idp.js';

/** The dev IdP as the service and the other tests use it: real HTTP on loopback, real JWTs. */
describe('dev IdP', () => {
  const tenantAdmin: DevIdpClient = { client_id: 'acme-admin', client_secret: 'acme-admin-secret' };
  let idp: DevIdp;
  let verify: (token: string) => ReturnType<typeof jwtVerify>;

  beforeAll(async () => {
    idp = await startDevIdp({ adminSubject: 'test-platform-admin', extraClients: [tenantAdmin] });
    const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
    verify = (token) => jwtVerify(token, jwks, { issuer: idp.issuer, audience: idp.audience });
  });
  afterAll(() => idp.stop());

  it('listens on loopback with an issuer that names its port', () => {
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(idp.audience).toBe('urn:citadel:iam');
  });

  it('issues the admin client an ES256 JWT whose subject is the admin subject', async () => {
    const token = await idp.clientCredentialsToken(idp.admin);
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: idp.signingKey.kid });
    expect(payload).toMatchObject({ sub: 'test-platform-admin', iss: idp.issuer, aud: idp.audience });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('issues an extra client a JWT whose subject is its client_id', async () => {
    const { payload } = await verify(await idp.clientCredentialsToken(tenantAdmin));
    expect(payload.sub).toBe('acme-admin');
  });

  it('refuses a wrong client secret with 401 invalid_client', async () => {
    const response = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('acme-admin:wrong').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
    await expect(idp.clientCredentialsToken({ ...tenantAdmin, client_secret: 'wrong' })).rejects.toThrow(/401 invalid_client/);
  });

  it('refuses a token for another resource with invalid_target', async () => {
    const response = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('acme-admin:acme-admin-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'urn:other' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_target' });
  });

  it('names its token endpoint and JWKS URI in the discovery document', async () => {
    const response = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      issuer: idp.issuer,
      token_endpoint: idp.tokenEndpoint,
      jwks_uri: idp.jwksUri,
      registration_endpoint: idp.registrationEndpoint,
      grant_types_supported: expect.arrayContaining(['client_credentials']),
    });
  });

  it('serves only the public half of its signing key', async () => {
    const { keys } = (await (await fetch(idp.jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
    expect(keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', kid: idp.signingKey.kid, alg: 'ES256', use: 'sig' })]);
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('refuses a signing key that is not a private P-256 key', async () => {
    const { d: _private, ...publicHalf } = idp.signingKey;
    await expect(startDevIdp({ adminSubject: 'x', signingKey: publicHalf })).rejects.toThrow(/private EC P-256/);
  });

  it('lets tests mint tokens with its signing key that verify against its JWKS', async () => {
    const token = await mintAccessToken(idp, { sub: 'someone' });
    expect(decodeProtectedHeader(token).kid).toBe(idp.signingKey.kid);
    expect((await verify(token)).payload.sub).toBe('someone');

    const expired = await mintAccessToken(idp, { sub: 'someone', exp: Math.floor(Date.now() / 1000) - 60 });
    await expect(verify(expired)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    const elsewhere = await mintAccessToken(idp, { sub: 'someone', aud: 'urn:other' });
    await expect(verify(elsewhere)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
  });

  it('registers a client-credentials client only with the initial access token', async () => {
    const metadata = { client_name: 'reports', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
    const register = (token: string) =>
      fetch(idp.registrationEndpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...metadata, token_endpoint_auth_method: 'client_secret_basic' }),
      });
    expect((await register('not-the-token')).status).toBe(401);

    const response = await register(idp.initialAccessToken);
    expect(response.status).toBe(201);
    const client = (await response.json()) as DevIdpClient & { registration_client_uri: string; registration_access_token: string };
    expect(client.registration_client_uri).toBe(`${idp.registrationEndpoint}/${client.client_id}`);
    const { payload } = await verify(await idp.clientCredentialsToken(client));
    expect(payload.sub).toBe(client.client_id);

    const read = await fetch(client.registration_client_uri, { headers: { authorization: `Bearer ${client.registration_access_token}` } });
    expect(read.status).toBe(200);
  });

  describe('admin API', () => {
    type Listed = Record<string, unknown> & { client_id: string };
    const bearer = () => ({ authorization: `Bearer ${idp.initialAccessToken}` });
    const register = async (body: Record<string, unknown>) =>
      fetch(idp.registrationEndpoint, {
        method: 'POST',
        headers: { ...bearer(), 'content-type': 'application/json' },
        body: JSON.stringify({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [], ...body }),
      });
    const registered = async (softwareId: string) => (await (await register({ software_id: softwareId })).json()) as DevIdpClient;
    const nextLink = (response: Response) => /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];

    it('is served under the issuer at /admin', () => {
      expect(idp.adminApiUrl).toBe(`${idp.issuer}/admin`);
    });

    it('answers 401 without the initial access token', async () => {
      const list = await fetch(`${idp.adminApiUrl}/clients`);
      expect(list.status).toBe(401);
      expect(list.headers.get('www-authenticate')).toBe('Bearer');
      expect((await fetch(`${idp.adminApiUrl}/clients`, { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(401);
      const client = await registered('admin-api-401');
      expect((await fetch(`${idp.adminApiUrl}/clients/${client.client_id}`, { method: 'DELETE' })).status).toBe(401);
      await expect(idp.clientCredentialsToken(client)).resolves.toEqual(expect.any(String)); // still there
    });

    it('keeps software_id as client metadata and refuses one that is not a string', async () => {
      const response = await register({ software_id: 'admin-api-meta' });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ software_id: 'admin-api-meta' });
      const refused = await register({ software_id: 42 });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'invalid_client_metadata' });
    });

    it('lists registered clients page by page, with software_id and created_at but never their secrets', async () => {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await registered('admin-api-pages')).client_id);
      const listed: Listed[] = [];
      let pages = 0;
      for (let url: string | undefined = `${idp.adminApiUrl}/clients?page_size=2`; url; pages++) {
        const response = await fetch(url, { headers: bearer() });
        expect(response.status).toBe(200);
        const page = (await response.json()) as Listed[];
        expect(page.length).toBeLessThanOrEqual(2);
        listed.push(...page);
        url = nextLink(response);
      }
      expect(pages).toBeGreaterThanOrEqual(2);
      expect(new Set(listed.map((client) => client.client_id)).size).toBe(listed.length);
      const ours = listed.filter((client) => client.software_id === 'admin-api-pages');
      expect(ours.map((client) => client.client_id).sort()).toEqual(ids.sort());
      expect(ours[0]).toMatchObject({ grant_types: ['client_credentials'], created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      expect(listed.some((client) => 'client_secret' in client)).toBe(false);
      expect(listed.map((client) => client.client_id)).not.toContain(idp.admin.client_id); // static clients are not listed
    });

    it('refuses a page_size out of range', async () => {
      expect((await fetch(`${idp.adminApiUrl}/clients?page_size=0`, { headers: bearer() })).status).toBe(400);
      expect((await fetch(`${idp.adminApiUrl}/clients?page_size=501`, { headers: bearer() })).status).toBe(400);
    });

    it('deletes a client by id so that it gets no more tokens, then answers 404 for it', async () => {
      const client = await registered('admin-api-delete');
      await idp.clientCredentialsToken(client);
      const remove = () => fetch(`${idp.adminApiUrl}/clients/${encodeURIComponent(client.client_id)}`, { method: 'DELETE', headers: bearer() });
      expect((await remove()).status).toBe(204);
      await expect(idp.clientCredentialsToken(client)).rejects.toThrow(/401 invalid_client/);
      expect((await remove()).status).toBe(404);
    });
  });

  it('keeps a saved signing key across restarts', async () => {
    const again = await startDevIdp({ adminSubject: 'x', signingKey: idp.signingKey });
    try {
      expect(again.signingKey.kid).toBe(idp.signingKey.kid);
      const token = await again.clientCredentialsToken(again.admin);
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), { audience: idp.audience });
      expect(payload.iss).toBe(again.issuer);
    } finally {
      await again.stop();
    }
  });
});
