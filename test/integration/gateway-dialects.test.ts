/**
 * enrich-token in Ory's languages, with payloads shaped as Hydra v2's token hook and
 * Oathkeeper's hydrator mutator send them (fields we do not read included, as vendors add
 * them): allow, no change, deny, unknown subject, ambiguous tenant, claim namespace and byte
 * budget. The store-down case is in enrich-token-database-down.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Database } from '../../lib/adapters/postgres/database.js';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { forgetHome } from '../support/homes.js';
import { invoke } from '../support/invoke.js';
import { addRole, addTenant, mapSubject, testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

const KEY = 'dialect-test-key-0123456789abcdefghijklmno';
const NS = 'https://citadel.example/';

/** Hydra v2 `oauth2.token_hook` body for an authorization-code token of `subject`. */
function hydraHook(subject: string, options: { tenant?: string; grant?: string; clientId?: string; legacy?: boolean } = {}) {
  const clientId = options.clientId ?? 'web-app';
  return {
    session: {
      id_token: {
        id_token_claims: { jti: 'b5c1…', iss: 'https://hydra.example/', sub: subject, aud: [clientId], ext: {} },
        headers: { extra: {} },
        username: '',
        subject,
      },
      extra: options.tenant ? { tenant: options.tenant } : {},
      client_id: clientId,
      consent_challenge: '7b3e…',
      exclude_not_before_claim: false,
      allowed_top_level_claims: [],
      mirror_top_level_claims: true,
    },
    request: {
      client_id: options.legacy ? undefined : clientId,
      ...(options.legacy ? { client: { client_id: clientId } } : {}),
      requested_scopes: ['openid', 'offline'],
      granted_scopes: ['openid', 'offline'],
      requested_audience: [],
      granted_audience: [],
      grant_types: [options.grant ?? 'authorization_code'],
      payload: {},
    },
  };
}

/** Oathkeeper's authentication session after a JWT authenticator, as the hydrator POSTs it. */
function oathkeeperSession(subject: string, extra: Record<string, unknown> = {}, urlAsString = false) {
  const url = urlAsString
    ? 'https://api.example/invoices/42'
    : { Scheme: 'https', Opaque: '', User: null, Host: 'api.example', Path: '/invoices/42', RawPath: '', ForceQuery: false, RawQuery: '', Fragment: '' };
  return {
    subject,
    extra: { iss: 'https://idp.example/', ...extra },
    header: { 'X-Request-Id': ['r-1'] },
    match_context: { regexp_capture_groups: ['42'], url, method: 'GET', header: { 'X-Tenant': ['globex'], 'X-Auth-Roles': ['forged'] } },
  };
}

describe('enrich-token dialects: Ory Hydra token hook and Oathkeeper hydrator', () => {
  let handler: LambdaHttpHandler;
  let db: Database;
  let acme: string;
  const emitted: string[] = [];

  beforeAll(async () => {
    const url = await createTestDatabase();
    db = testDatabase(url);
    acme = await addTenant(db, 'acme');
    const globex = await addTenant(db, 'globex');
    const frozen = await addTenant(db, 'frozen', 'suspended');
    const billing = await addRole(db, acme, 'billing-admin', ['invoices:read', 'invoices:write']);
    await mapSubject(db, acme, 'alice', [billing]);
    await mapSubject(db, acme, 'multi', [billing]);
    await mapSubject(db, globex, 'multi', []);
    await forgetHome(db, 'multi'); // in both tenants from before home tenants: no home, so 409 without a tenant
    await mapSubject(db, acme, 'homed', [billing]); // acme first: its home
    await mapSubject(db, globex, 'homed', []);
    await mapSubject(db, frozen, 'frozen-user', []);
    await mapSubject(db, acme, 'svc-exporter', [billing], 'client');
    const many = await addRole(db, globex, 'everything', Array.from({ length: 150 }, (_, i) => `resource-${i}:read-and-write-everything`));
    await mapSubject(db, globex, 'hoarder', [many]);
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    Object.assign(process.env, { DATABASE_URL: url, ENRICH_API_KEYS: KEY, CLAIMS_NAMESPACE: NS, CLAIMS_MAX_BYTES: '2048' });
    ({ handler } = await import('../../functions/enrich-token.js'));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await (await import('../../lib/wiring/base.js')).runtime().db.end();
    await db.end();
  });

  const call = (body: unknown) => invoke(handler, { headers: { 'x-api-key': KEY }, body });
  const claimsOf = (tenant: string, tenantId: string, roles: string[], permissions: string[], subjectType = 'user') => ({
    [`${NS}tenant`]: tenant,
    [`${NS}tenant_id`]: tenantId,
    [`${NS}subject_type`]: subjectType,
    [`${NS}roles`]: roles,
    [`${NS}entitlements`]: permissions,
  });

  describe('Ory Hydra token hook', () => {
    it('adds the claims to the access and ID tokens (allow)', async () => {
      const answer = await call(hydraHook('alice'));
      const claims = claimsOf('acme', acme, ['billing-admin'], ['invoices:read', 'invoices:write']);
      expect(answer).toMatchObject({ status: 200, json: { session: { access_token: claims, id_token: claims } } });
      expect(Object.keys(answer.json)).toEqual(['session']);
    });

    it('enriches a client-credentials token for the client, and accepts an older Hydra’s request.client', async () => {
      const body = hydraHook('', { grant: 'client_credentials', clientId: 'svc-exporter', legacy: true });
      body.session.id_token.subject = '';
      body.session.id_token.id_token_claims.sub = '';
      const answer = await call(body);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ session: { access_token: { [`${NS}subject_type`]: 'client', [`${NS}tenant`]: 'acme' } } });
    });

    it('answers 204 (no change, never an empty 200) for a subject that is none of ours', async () => {
      const answer = await call(hydraHook('stranger'));
      expect(answer.status).toBe(204);
      expect(answer.json).toEqual({});
    });

    it('answers 204 when the hook carries no subject at all', async () => {
      const body = hydraHook('', { clientId: '' });
      body.session.client_id = '';
      expect((await call(body)).status).toBe(204);
    });

    it('denies (403) a suspended tenant', async () => {
      const answer = await call(hydraHook('frozen-user'));
      expect(answer).toMatchObject({ status: 403, json: { type: 'urn:citadel:iam:problem:tenant-suspended' } });
    });

    it('denies (403) a subject in two tenants when none is named, and picks the named one', async () => {
      expect(await call(hydraHook('multi'))).toMatchObject({ status: 403, json: { type: 'urn:citadel:iam:problem:tenant-required' } });
      const named = await call(hydraHook('multi', { tenant: 'globex' }));
      expect(named.json.session).toMatchObject({ access_token: { [`${NS}tenant`]: 'globex', [`${NS}roles`]: [] } });
      const fromPayload = hydraHook('multi');
      fromPayload.request.payload = { tenant: ['acme'] } as never;
      expect((await call(fromPayload)).json).toMatchObject({ session: { access_token: { [`${NS}tenant`]: 'acme' } } });
    });

    it('denies (403) a tenant that does not exist or is not a slug', async () => {
      expect((await call(hydraHook('alice', { tenant: 'nowhere' }))).status).toBe(403);
      expect((await call(hydraHook('alice', { tenant: 'Not A Slug' }))).status).toBe(403);
    });

    it('answers a subject in several tenants from its home tenant when none is named', async () => {
      expect(((await call(hydraHook('homed'))).json as any).session.access_token).toMatchObject({ [`${NS}tenant`]: 'acme', [`${NS}roles`]: ['billing-admin'] });
      expect(((await call(hydraHook('homed', { tenant: 'globex' }))).json as any).session.access_token).toMatchObject({ [`${NS}tenant`]: 'globex' });
    });

    it('fails closed: a subject of ours naming a tenant it is not in is denied with the same 403 whether that tenant exists, is suspended or not', async () => {
      const answers = await Promise.all(['globex', 'frozen', 'nowhere'].map((tenant) => call(hydraHook('alice', { tenant }))));
      for (const answer of answers) expect(answer).toMatchObject({ status: 403, json: { type: 'urn:citadel:iam:problem:subject-not-found' } });
      const wire = (answer: { json: Record<string, unknown> }, tenant: string) => JSON.stringify({ ...answer.json, request_id: undefined, detail: String(answer.json['detail']).replace(tenant, '<t>') });
      expect(new Set(answers.map((answer, i) => wire(answer, ['globex', 'frozen', 'nowhere'][i]!))).size).toBe(1);
      // A user of a suspended tenant naming another one does not sign in either.
      expect(await call(hydraHook('frozen-user', { tenant: 'acme' }))).toMatchObject({ status: 403 });
      expect(await call(hydraHook('frozen-user', { tenant: 'nowhere' }))).toMatchObject({ status: 403 });
    });

    it('answers no change (204) for a subject in no tenant at all, whatever tenant it names', async () => {
      for (const tenant of ['acme', 'frozen', 'nowhere']) expect((await call(hydraHook('stranger', { tenant }))).status).toBe(204);
    });

    it('refuses claims over the byte budget instead of minting a header-breaking token', async () => {
      const answer = await call(hydraHook('hoarder'));
      expect(answer).toMatchObject({ status: 403, json: { type: 'urn:citadel:iam:problem:claims-too-large' } });
      expect(String(answer.json.detail)).toMatch(/over the 2048-byte budget/);
    });

    it('answers a body that is Hydra-shaped but malformed with 400', async () => {
      expect((await call({ session: 'nope', request: {} })).status).toBe(400);
    });
  });

  describe('Ory Oathkeeper hydrator', () => {
    it('returns the session with the subject unchanged, extra enriched and the upstream headers (allow)', async () => {
      const sent = oathkeeperSession('alice');
      const answer = await call(sent);
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        ...sent,
        extra: { ...sent.extra, tenant: 'acme', tenant_id: acme, subject_type: 'user', roles: ['billing-admin'], permissions: ['invoices:read', 'invoices:write'] },
        header: {
          'X-Request-Id': ['r-1'],
          'X-Auth-Subject': ['alice'],
          'X-Auth-Tenant': ['acme'],
          'X-Auth-Roles': ['billing-admin'],
          'X-Auth-Permissions': ['invoices:read,invoices:write'],
        },
      });
    });

    it('accepts match_context.url as a string, as the docs show it', async () => {
      expect((await call(oathkeeperSession('alice', {}, true))).status).toBe(200);
    });

    it('passes an anonymous session through unchanged (no change)', async () => {
      const sent = oathkeeperSession('');
      expect(await call(sent)).toMatchObject({ status: 200, json: sent });
    });

    it('denies (403) an unknown subject, a suspended tenant and a tenant the subject is not in, existing or not', async () => {
      expect(await call(oathkeeperSession('stranger'))).toMatchObject({ status: 403, json: { type: 'urn:citadel:iam:problem:subject-not-found' } });
      expect((await call(oathkeeperSession('frozen-user'))).status).toBe(403);
      const strip = (answer: { status: number; json: Record<string, unknown> }) => ({ ...answer.json, request_id: undefined, detail: undefined, status: answer.status });
      const notIn = await call(oathkeeperSession('alice', { tenant: 'globex' }));
      const nowhere = await call(oathkeeperSession('alice', { tenant: 'nowhere' }));
      const frozen = await call(oathkeeperSession('frozen-user', { tenant: 'acme' }));
      expect(strip(notIn)).toEqual(strip(nowhere));
      expect(strip(frozen)).toEqual(strip(nowhere));
      expect(notIn.status).toBe(403);
    });

    it('takes the tenant from extra (an authenticator’s output), never from the end user’s headers', async () => {
      expect(await call(oathkeeperSession('multi'))).toMatchObject({ status: 403, json: { type: 'urn:citadel:iam:problem:tenant-required' } });
      expect((await call(oathkeeperSession('homed'))).json.header).toMatchObject({ 'X-Auth-Tenant': ['acme'] });
      const answer = await call(oathkeeperSession('multi', { tenant: 'acme' }));
      expect(answer.json.header).toMatchObject({ 'X-Auth-Tenant': ['acme'], 'X-Auth-Roles': ['billing-admin'] });
    });
  });

  it('labels each request’s metrics with its dialect', () => {
    const dialects = emitted.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line).dialect as string);
    expect(new Set(dialects)).toEqual(new Set(['hydra', 'oathkeeper']));
  });
});
