/**
 * A hostile tenant admin against another tenant's sign-ins (issue #11). acme's admin maps
 * globex's user and tries globex's OAuth client into acme, removes and re-adds, and every
 * dialect — native, Hydra, Oathkeeper, forward-auth, Cognito — must answer for globex's subjects
 * exactly as before, byte for byte (request ids aside), wherever a tenant other than acme is named
 * or none is. Then a fuzzer throws generated slugs and forward-auth paths at the same stack:
 * never a 5xx, never an allow without our claims, never an answer that tells a slug exists.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { buildHttpEvent, lambdaContext } from '../../local/http-front.js';
import { type AdminStack, ENRICH_KEY, startAdminStack } from '../support/admin-stack.js';
import { homeDrift } from '../support/claims-truth.js';
import { mintAccessToken } from '../support/dev-idp.js';
import { homeOf } from '../support/homes.js';
import { addTenant } from '../support/policy-fixture.js';

type Cognito = (event: unknown, context: Context) => Promise<unknown>;
const B_USER = 'globex-person';
/** Tenants a subject may name: its own, the attacker's, a suspended one, one that does not exist, none. */
const NAMED = [undefined, 'globex', 'acme', 'frozen', 'no-such-tenant'] as const;

const cognitoUser = (sub: string, tenant?: string) => ({
  version: '2',
  triggerSource: 'TokenGeneration_Authentication',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_EXAMPLE',
  userName: 'someone',
  callerContext: { awsSdkVersion: 'x', clientId: 'pool-web-client' },
  request: { userAttributes: { sub, ...(tenant === undefined ? {} : { 'custom:tenant': tenant }) } },
  response: { claimsAndScopeOverrideDetails: null },
});
const cognitoClient = (clientId: string) => ({
  version: '3',
  triggerSource: 'TokenGeneration_ClientCredentials',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_EXAMPLE',
  userName: 'ClientCredentials',
  callerContext: { awsSdkVersion: 'x', clientId },
  request: { userAttributes: {} },
  response: { claimsAndScopeOverrideDetails: null },
});

describe('a hostile tenant admin against another tenant’s sign-ins', () => {
  let stack: AdminStack;
  let cognito: Cognito;
  let bClient: string;
  let attempts = 0;

  beforeAll(async () => {
    stack = await startAdminStack();
    await addTenant(stack.db, 'frozen', 'suspended');
    const asB = (method: string, path: string, body?: unknown) => stack.call('otherTenantAdmin', method, path, body);
    expect((await asB('POST', '/tenants/globex/roles', { name: 'reports', permissions: ['reports:read'] })).status).toBe(201);
    expect((await asB('PUT', `/tenants/globex/users/${B_USER}`, { roles: ['reports'] })).status).toBe(201);
    const created = await asB('POST', '/tenants/globex/clients', { client_name: 'globex exporter', grant_types: ['client_credentials'], roles: ['reports'] });
    expect(created.status).toBe(201);
    bClient = created.json.client_id;
    expect((await stack.call('tenantAdmin', 'POST', '/tenants/acme/roles', { name: 'bait', permissions: ['acme:everything'] })).status).toBe(201);
    ({ handler: cognito } = (await import('../../functions/cognito-pre-token.js')) as { handler: Cognito });
  }, 60_000);
  afterAll(async () => {
    await (await import('../../lib/wiring/base.js')).runtime().db.end();
    await stack?.stop();
  });

  const normal = (status: number, body: string) => {
    const json = body ? JSON.parse(body) : undefined;
    if (json && typeof json === 'object') delete json.request_id;
    return { status, json };
  };
  async function enrich(body: unknown) {
    const response = await fetch(`${stack.url}/system/enrich-token`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ENRICH_KEY }, body: JSON.stringify(body) });
    return normal(response.status, await response.text());
  }
  async function forwardAuth(path: string, subject: string) {
    const token = await mintAccessToken(stack.idp, { sub: subject });
    const response = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-api-key': ENRICH_KEY } });
    const xAuth = Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('x-auth-')));
    return { ...normal(response.status, await response.text()), xAuth };
  }
  async function trigger(event: unknown) {
    try {
      return { answer: await cognito(event, lambdaContext('/cognito-pre-token')) };
    } catch (error) {
      const { message, status, code } = error as { message: string; status: number; code: string };
      return { refused: { message, status, code } };
    }
  }
  const hydra = (subject: string, tenant: string | undefined, clientId = 'web-app') => ({
    session: { id_token: { subject }, extra: tenant ? { tenant } : {}, client_id: clientId },
    request: { client_id: clientId, grant_types: ['authorization_code'], payload: {} },
  });

  /** Every dialect's full answer for one subject, per tenant it may name. */
  async function answersFor(subject: string, kind: 'user' | 'client') {
    const out: Record<string, unknown> = {};
    for (const tenant of NAMED) {
      const key = tenant ?? '(none)';
      out[`native ${key}`] = await enrich({ subject, ...(tenant ? { tenant } : {}) });
      out[`hydra ${key}`] = await enrich(kind === 'client' ? { ...hydra(subject, tenant, subject), session: { extra: tenant ? { tenant } : {}, client_id: subject } } : hydra(subject, tenant));
      out[`oathkeeper ${key}`] = await enrich({ subject, extra: tenant ? { tenant } : {}, header: {} });
      for (const path of ['/system/forward-auth', '/system/forward-auth/', '/system/forward-auth/app/page']) {
        out[`forward-auth ${path} ${key}`] = await forwardAuth(`${path}${tenant ? `?tenant=${tenant}` : ''}`, subject);
      }
      out[`cognito ${key}`] = await trigger(kind === 'client' ? cognitoClient(subject) : cognitoUser(subject, tenant));
      attempts += 4 + 3;
    }
    return out;
  }
  /** What must not move: every answer but those naming the attacker's own tenant. */
  const notNamingAcme = (all: Record<string, unknown>) => Object.fromEntries(Object.entries(all).filter(([key]) => !key.endsWith(' acme')));

  it('changes nothing any dialect answers for the other tenant’s user and client, tenant named or not', async () => {
    const userBefore = await answersFor(B_USER, 'user');
    const clientBefore = await answersFor(bClient, 'client');
    expect(userBefore['native (none)']).toMatchObject({ status: 200, json: { tenant: { slug: 'globex' }, roles: ['reports'] } });
    expect(clientBefore['native (none)']).toMatchObject({ status: 200, json: { subject_type: 'client', tenant: { slug: 'globex' } } });

    const asA = (method: string, path: string, body?: unknown) => {
      attempts += 1;
      return stack.call('tenantAdmin', method, path, body);
    };
    // Membership of acme for globex's user: acme's to grant, and it moves nothing of globex's.
    expect((await asA('PUT', `/tenants/acme/users/${B_USER}`, { roles: ['bait'] })).status).toBe(201);
    expect(await homeOf(stack.db, B_USER)).toBe('globex');
    // globex's client, as a user of acme: refused, with the answer a client of acme gets.
    const asUser = await asA('PUT', `/tenants/acme/users/${encodeURIComponent(bClient)}`, { roles: ['bait'] });
    expect(asUser).toMatchObject({ status: 409, json: { type: 'urn:citadel:iam:problem:subject-is-client' } });
    expect((await asA('PUT', `/tenants/acme/users/${encodeURIComponent(bClient)}`, { roles: [] })).status).toBe(409);
    // In globex itself: 404 as ever; removing and re-adding in acme never makes acme the home.
    expect((await asA('DELETE', `/tenants/globex/users/${B_USER}`)).status).toBe(404);
    expect((await asA('PUT', `/tenants/globex/users/${B_USER}`, { roles: [] })).status).toBe(404);
    expect((await asA('DELETE', `/tenants/acme/users/${B_USER}`)).status).toBe(204);
    expect((await asA('PUT', `/tenants/acme/users/${B_USER}`, { roles: ['bait'] })).status).toBe(201);
    expect(await homeOf(stack.db, B_USER)).toBe('globex');

    const userAfter = await answersFor(B_USER, 'user');
    const clientAfter = await answersFor(bClient, 'client');
    expect(notNamingAcme(userAfter)).toEqual(notNamingAcme(userBefore));
    expect(clientAfter).toEqual(clientBefore);
    // Naming acme, globex's user now gets what acme granted — acme's own sign-in, nothing of globex's.
    expect(userAfter['native acme']).toMatchObject({ status: 200, json: { tenant: { slug: 'acme' }, roles: ['bait'] } });
    expect(await homeDrift(stack.db)).toEqual([]);
    process.stdout.write(`tenant-membership attack: ${attempts} sign-in answers and admin calls, ${Object.keys(userBefore).length * 2} dialect answers compared before/after\n`);
  }, 120_000);

  it('moves the home only when the home tenant removes the subject, and never to the attacker while another tenant has it', async () => {
    const asB = (method: string, path: string, body?: unknown) => stack.call('otherTenantAdmin', method, path, body);
    // globex removes its user: acme is now the only tenant — and so the home; the answer is acme's either way.
    expect((await asB('DELETE', `/tenants/globex/users/${B_USER}`)).status).toBe(204);
    expect(await homeOf(stack.db, B_USER)).toBe('acme');
    expect((await asB('PUT', `/tenants/globex/users/${B_USER}`, { roles: ['reports'] })).status).toBe(201);
    expect((await enrich({ subject: B_USER })).json).toMatchObject({ tenant: { slug: 'acme' } });
    expect(await homeDrift(stack.db)).toEqual([]);
  });

  describe('fuzzing slugs and forward-auth paths', () => {
    const slug = fc.oneof(
      fc.constantFrom('globex', 'acme', 'frozen', 'platform', 'no-such-tenant', 'GLOBEX', 'globex ', ' globex', 'glob%65x', 'a', '-', '--'),
      fc.stringMatching(/^[a-z0-9-]{0,70}$/),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    const outcomes = { generated: 0, fiveXX: 0, allowWithoutClaims: 0, slugLeaks: 0 };

    it('never answers 5xx, never allows without our claims, and answers a stranger slug as a missing one (native, Hydra, Oathkeeper, Cognito)', async () => {
      await fc.assert(
        fc.asyncProperty(slug, fc.constantFrom(B_USER, 'acme-user', 'nobody-at-all', bClient), async (tenant, subject) => {
          outcomes.generated += 4;
          const native = await enrich({ subject, tenant });
          const hook = await enrich(hydra(subject, tenant));
          const oathkeeper = await enrich({ subject, extra: { tenant }, header: {} });
          const cognitoAnswer = await trigger(cognitoUser(subject, tenant));
          for (const answer of [native, hook, oathkeeper]) if (answer.status >= 500) outcomes.fiveXX += 1;
          if (cognitoAnswer.refused && cognitoAnswer.refused.status >= 500) outcomes.fiveXX += 1;
          if (native.status === 200 && !native.json?.tenant?.slug) outcomes.allowWithoutClaims += 1;
          if (hook.status === 200 && !hook.json?.session?.access_token) outcomes.allowWithoutClaims += 1;
          if (hook.status === 204 && subject !== 'nobody-at-all') outcomes.allowWithoutClaims += 1;
          if (cognitoAnswer.answer && subject !== 'nobody-at-all' && !(cognitoAnswer.answer as any).response?.claimsAndScopeOverrideDetails) outcomes.allowWithoutClaims += 1;
          // A slug the subject is not in answers exactly as one that does not exist.
          const member = native.status === 200 || native.json?.type === 'urn:citadel:iam:problem:tenant-suspended';
          if (!member && native.status === 404) {
            const twin = await enrich({ subject, tenant: 'zz-no-such-tenant' });
            const strip = (a: typeof native) => JSON.stringify({ ...a.json, detail: String(a.json.detail).split('"')[0] });
            if (strip(twin) !== strip(native)) outcomes.slugLeaks += 1;
          }
        }),
        { numRuns: 300, seed: 11 },
      );
      process.stdout.write(`fuzz (enrich dialects): ${outcomes.generated} generated inputs, ${outcomes.fiveXX} x 5xx, ${outcomes.allowWithoutClaims} x allow without our claims, ${outcomes.slugLeaks} x slug leak\n`);
      expect(outcomes).toMatchObject({ fiveXX: 0, allowWithoutClaims: 0, slugLeaks: 0 });
    }, 300_000);

    it('never answers 5xx at forward-auth and never lets a client’s path or query replace the operator’s tenant', async () => {
      const prefix = fc.constantFrom('', '/dev', '/prod', '/iam/v1', '/a%20b');
      const tail = fc.oneof(fc.constantFrom('', '/', '/app', '/app/page', '//x', '/system/forward-auth'), fc.webPath());
      const clientQuery = fc.oneof(
        fc.constant(''),
        slug.map((s) => `tenant=${encodeURIComponent(s)}`),
        fc.webQueryParameters(),
        fc.constantFrom('tenant=acme', 'tenant=globex&tenant=acme', '%zz', 'tenant=%zz', 'x=%E2%82', '%74enant=acme'),
      );
      const counts = { generated: 0, fiveXX: 0, allowWithoutClaims: 0, allowOtherTenant: 0 };
      const { handler: forwardAuthHandler } = (await import('../../functions/forward-auth.js')) as { handler: LambdaHttpHandler };
      const token = await mintAccessToken(stack.idp, { sub: 'acme-user' });
      await fc.assert(
        fc.asyncProperty(prefix, tail, clientQuery, fc.boolean(), async (pre, path, query, operatorNamesGlobex) => {
          counts.generated += 1;
          // The operator's site serves globex only (or names none); the user is acme-user: never a globex member.
          const operator = operatorNamesGlobex ? 'tenant=globex&' : '';
          // The strings exactly as API Gateway hands them over (rawPath, rawQueryString), stage prefix included.
          const event = buildHttpEvent({ method: 'GET', url: new URL('https://iam.internal/system/forward-auth'), headers: { authorization: `Bearer ${token}`, 'x-api-key': ENRICH_KEY } });
          Object.assign(event, { rawPath: `${pre}/system/forward-auth${path}`, rawQueryString: `${operator}${query}` });
          const answer = await forwardAuthHandler(event, lambdaContext('/system/forward-auth'));
          if (answer.statusCode >= 500) counts.fiveXX += 1;
          if (answer.statusCode === 200 && !answer.headers['X-Auth-Tenant']) counts.allowWithoutClaims += 1;
          if (answer.statusCode === 200 && operatorNamesGlobex) counts.allowOtherTenant += 1;
          if (answer.statusCode === 200 && /(^|&)tenant=(?!acme(&|$))/.test(`${operator}${query}`)) counts.allowOtherTenant += 1;
        }),
        { numRuns: 1_000, seed: 11 },
      );
      process.stdout.write(`fuzz (forward-auth paths): ${counts.generated} generated inputs, ${counts.fiveXX} x 5xx, ${counts.allowWithoutClaims} x allow without our claims, ${counts.allowOtherTenant} x allow at a site of another tenant\n`);
      expect(counts).toMatchObject({ fiveXX: 0, allowWithoutClaims: 0, allowOtherTenant: 0 });
    }, 300_000);
  });
});
