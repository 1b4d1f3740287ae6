/**
 * Amazon Cognito's pre token generation trigger (V2_0 and V3_0), with events shaped as the
 * Cognito developer guide documents them (fields we do not read included): allow, no change,
 * deny, unknown subject, ambiguous tenant, client credentials, an event it does not speak, the
 * store down or hanging, and a cold start. The last three run in a fresh Node process each: the
 * runtime is built once per process, as in a Lambda container.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Context } from 'aws-lambda';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { lambdaContext } from '../../local/http-front.js';
import { forgetHome } from '../support/homes.js';
import { addRole, addTenant, mapSubject, testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

const NS = 'https://citadel.example/';
const WEB_CLIENT = '4tq9example0web0client0id';
const M2M_CLIENT = '7mq1example0m2m0client0id';
const JANE = 'd4f8a2b0-5c1e-4f7a-9b3d-2e6c8a1f0b71';
const MULTI = '0b9c7e21-3a4d-4c5b-8e6f-7a8b9c0d1e2f';
const HOMED = '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b10';
const FROZEN = 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9';
const HOARDER = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const STRANGER = '9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a';

type UserSource =
  | 'TokenGeneration_HostedAuth'
  | 'TokenGeneration_Authentication'
  | 'TokenGeneration_NewPasswordChallenge'
  | 'TokenGeneration_AuthenticateDevice'
  | 'TokenGeneration_RefreshTokens';

/** A user sign-in event (V2_0, or V3_0 which is the same for users). */
function userEvent(sub: string, options: { version?: '2' | '3'; source?: UserSource; tenant?: string } = {}) {
  return {
    version: options.version ?? '2',
    triggerSource: options.source ?? 'TokenGeneration_Authentication',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_EXAMPLE',
    userName: 'jane.doe',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: WEB_CLIENT },
    request: {
      userAttributes: {
        sub,
        'cognito:user_status': 'CONFIRMED',
        email_verified: 'true',
        email: 'jane.doe@example.com',
        ...(options.tenant === undefined ? {} : { 'custom:tenant': options.tenant }),
      },
      groupConfiguration: { groupsToOverride: ['staff'], iamRolesToOverride: [], preferredRole: null },
      ...(options.version === '3' ? { scopes: ['openid', 'email', 'aws.cognito.signin.user.admin'] } : {}),
    },
    response: { claimsAndScopeOverrideDetails: null },
  };
}

/** A V3_0 client-credentials (machine-to-machine) event. */
function clientCredentialsEvent(clientId: string) {
  return {
    version: '3',
    triggerSource: 'TokenGeneration_ClientCredentials',
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_EXAMPLE',
    userName: `ClientCredentials`,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId },
    request: { userAttributes: {}, groupConfiguration: null, scopes: ['https://api.example/invoices.read'] },
    response: { claimsAndScopeOverrideDetails: null },
  };
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

describe('Cognito pre token generation trigger', () => {
  let handler: Handler;
  let db: Database;
  let url: string;
  let acme: string;
  let globex: string;
  const emitted: string[] = [];

  beforeAll(async () => {
    url = await createTestDatabase();
    db = testDatabase(url);
    acme = await addTenant(db, 'acme');
    globex = await addTenant(db, 'globex');
    const frozen = await addTenant(db, 'frozen', 'suspended');
    const billing = await addRole(db, acme, 'billing-admin', ['invoices:read', 'invoices:write']);
    const exporter = await addRole(db, acme, 'exporter', ['invoices:read']);
    await mapSubject(db, acme, JANE, [billing]);
    await mapSubject(db, acme, MULTI, [billing]);
    await mapSubject(db, globex, MULTI, []);
    await forgetHome(db, MULTI); // in both from before home tenants: no home
    await mapSubject(db, globex, HOMED, []); // globex first: its home
    await mapSubject(db, acme, HOMED, [billing]);
    await mapSubject(db, frozen, FROZEN, []);
    await mapSubject(db, acme, M2M_CLIENT, [exporter], 'client');
    const everything = await addRole(db, globex, 'everything', Array.from({ length: 150 }, (_, i) => `resource-${i}:read-and-write-everything`));
    await mapSubject(db, globex, HOARDER, [everything]);
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void emitted.push(String(line)));
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    Object.assign(process.env, { DATABASE_URL: url, CLAIMS_NAMESPACE: NS, LOG_LEVEL: 'info' });
    ({ handler } = (await import('../../functions/cognito-pre-token.js')) as { handler: Handler });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await (await import('../../lib/wiring/base.js')).runtime().db.end();
    await db.end();
  });

  const trigger = (event: unknown) => handler(event, lambdaContext('/cognito-pre-token'));
  const acmeClaims = (subjectType = 'user', roles = ['billing-admin'], entitlements = ['invoices:read', 'invoices:write']) => ({
    [`${NS}tenant`]: 'acme',
    [`${NS}tenant_id`]: acme,
    [`${NS}subject_type`]: subjectType,
    [`${NS}roles`]: roles,
    [`${NS}entitlements`]: entitlements,
  });

  it.each<[UserSource, '2' | '3']>([
    ['TokenGeneration_HostedAuth', '2'],
    ['TokenGeneration_Authentication', '2'],
    ['TokenGeneration_NewPasswordChallenge', '2'],
    ['TokenGeneration_AuthenticateDevice', '2'],
    ['TokenGeneration_RefreshTokens', '2'],
    ['TokenGeneration_Authentication', '3'],
    ['TokenGeneration_RefreshTokens', '3'],
  ])('adds the tenant, roles and permissions to the ID and access tokens on %s (version %s)', async (source, version) => {
    const event = userEvent(JANE, { source, version });
    const sent = structuredClone(event);
    const answer = await trigger(event);
    expect(answer).toEqual({
      ...sent,
      response: {
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: { claimsToAddOrOverride: acmeClaims() },
          accessTokenGeneration: { claimsToAddOrOverride: acmeClaims() },
        },
      },
    });
    expect(event).toEqual(sent);
  });

  it('answers an unknown subject with the event as sent: tokens without our claims', async () => {
    const event = userEvent(STRANGER);
    const sent = structuredClone(event);
    await expect(trigger(event)).resolves.toEqual(sent);
  });

  it('answers an unknown machine client with the event as sent', async () => {
    const event = clientCredentialsEvent('0unknown0client0id');
    await expect(trigger(event)).resolves.toEqual(structuredClone(event));
  });

  it('refuses the sign-in of a user whose tenant is suspended', async () => {
    await expect(trigger(userEvent(FROZEN))).rejects.toMatchObject({
      name: 'PreTokenRefusal',
      message: 'Tenant "frozen" is suspended.',
      status: 403,
      code: 'tenant-suspended',
    });
  });

  it('refuses a user in several tenants whose custom:tenant names none', async () => {
    await expect(trigger(userEvent(MULTI))).rejects.toMatchObject({
      message: expect.stringMatching(/several tenants and has no home tenant; their custom:tenant attribute must name/),
      status: 403,
      code: 'tenant-required',
    });
  });

  it('gives a user in several tenants the claims of the tenant custom:tenant names, and only those', async () => {
    const answer = (await trigger(userEvent(MULTI, { tenant: 'globex' }))) as ReturnType<typeof userEvent>;
    const globexClaims = { [`${NS}tenant`]: 'globex', [`${NS}tenant_id`]: globex, [`${NS}subject_type`]: 'user', [`${NS}roles`]: [], [`${NS}entitlements`]: [] };
    expect(answer.response.claimsAndScopeOverrideDetails).toEqual({
      idTokenGeneration: { claimsToAddOrOverride: globexClaims },
      accessTokenGeneration: { claimsToAddOrOverride: globexClaims },
    });
  });

  it.each([
    ['a tenant that does not exist', 'nope', 'subject-not-found', /does not belong to tenant "nope"/],
    ['a tenant the user is not in', 'globex', 'subject-not-found', /does not belong to tenant "globex"/],
    ['a suspended tenant the user is not in', 'frozen', 'subject-not-found', /does not belong to tenant "frozen"/],
    ['a value that is not a tenant slug', '../acme', 'tenant-invalid', /not a tenant slug/],
  ])('refuses a custom:tenant naming %s', async (_, tenant, code, message) => {
    await expect(trigger(userEvent(JANE, { tenant }))).rejects.toMatchObject({ status: 403, code, message: expect.stringMatching(message) });
  });

  it('refuses a tenant the user is not in with the same message whether it exists, is suspended or not', async () => {
    const refusal = async (tenant: string) => {
      const error = (await trigger(userEvent(JANE, { tenant })).catch((e: unknown) => e)) as { message: string; status: number; code: string };
      return JSON.stringify({ message: error.message.replace(tenant, '<t>'), status: error.status, code: error.code });
    };
    expect(new Set(await Promise.all(['globex', 'frozen', 'no-such-tenant'].map(refusal))).size).toBe(1);
  });

  it('refuses a user of a suspended tenant who names another tenant', async () => {
    await expect(trigger(userEvent(FROZEN, { tenant: 'acme' }))).rejects.toMatchObject({ status: 403, code: 'subject-not-found' });
  });

  it('leaves the event unchanged for a subject in no tenant at all, whatever custom:tenant names', async () => {
    for (const tenant of ['acme', 'frozen', 'no-such-tenant']) {
      const event = userEvent(STRANGER, { tenant });
      await expect(trigger(event)).resolves.toEqual(structuredClone(event));
    }
  });

  it('gives a user in several tenants the claims of their home tenant when custom:tenant names none', async () => {
    const answer = (await trigger(userEvent(HOMED))) as ReturnType<typeof userEvent>;
    expect(answer.response.claimsAndScopeOverrideDetails).toMatchObject({ accessTokenGeneration: { claimsToAddOrOverride: { [`${NS}tenant`]: 'globex' } } });
  });

  it('refuses a user whose claims would not fit a token', async () => {
    await expect(trigger(userEvent(HOARDER))).rejects.toMatchObject({
      status: 403,
      code: 'claims-too-large',
      message: expect.stringMatching(/over the 4096-byte budget/),
    });
  });

  it('adds a machine client’s claims to the access token of a client-credentials grant (V3), and issues no ID token claims', async () => {
    const event = clientCredentialsEvent(M2M_CLIENT);
    expect(await trigger(event)).toEqual({
      ...structuredClone(event),
      response: {
        claimsAndScopeOverrideDetails: {
          accessTokenGeneration: { claimsToAddOrOverride: acmeClaims('client', ['exporter'], ['invoices:read']) },
        },
      },
    });
  });

  it.each([
    ['a version 1 event (LambdaVersion V1_0)', { ...userEvent(JANE), version: '1', response: { claimsOverrideDetails: null } }, /version/],
    ['another trigger’s event', { ...userEvent(JANE), triggerSource: 'PreSignUp_SignUp' }, /triggerSource/],
    ['a user event without a sub', { ...userEvent(JANE), request: { userAttributes: { email: 'x@example.com' } } }, /userAttributes\.sub is missing/],
    ['an event without a caller context', { ...userEvent(JANE), callerContext: undefined }, /callerContext/],
    ['no event at all', null, /expected object/],
  ])('refuses %s, saying what is wrong', async (_, event, message) => {
    await expect(trigger(event)).rejects.toMatchObject({ status: 400, code: 'bad-request', message: expect.stringMatching(message) });
  });

  it('emits one metrics line per invocation: handler, dialect and status', async () => {
    emitted.length = 0;
    await trigger(userEvent(JANE));
    await trigger(userEvent(STRANGER));
    await trigger(userEvent(FROZEN)).catch(() => undefined);
    await trigger({ ...userEvent(JANE), version: '1' }).catch(() => undefined);
    const entries = emitted.map((line) => JSON.parse(line) as Record<string, unknown>);
    const metrics = entries.filter((entry) => entry['_aws']);
    expect(metrics.map((entry) => [entry['handler'], entry['dialect'], entry['http_status'], entry['status']])).toEqual([
      ['cognito-pre-token-generation', 'cognito', 200, '2xx'],
      ['cognito-pre-token-generation', 'cognito', 204, '2xx'],
      ['cognito-pre-token-generation', 'cognito', 403, '4xx'],
      ['cognito-pre-token-generation', 'cognito', 400, '4xx'],
    ]);
    for (const entry of metrics) expect(entry['http_request_duration_seconds']).toBeLessThan(1);
    // A deny is logged with its request id and code (no subject, no claims); an event the
    // function cannot read, which means a misconfigured user pool, as a warning saying why.
    const logs = entries.filter((entry) => entry['level']);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'info', msg: 'token refused', code: 'tenant-suspended', status: 403, handler: 'cognito-pre-token-generation' }),
      expect.objectContaining({ level: 'warn', msg: 'token refused', code: 'bad-request', status: 400, detail: expect.stringMatching(/^The Cognito event .* version: /) }),
    ]);
    expect(logs[0]!['request_id']).toBe(metrics[2]!['request_id']);
    expect(emitted.join('\n')).not.toContain(FROZEN);
  });

  describe('in a fresh process (a cold Lambda container)', () => {
    let hanging: Server;
    let hangingPort: number;
    const sockets: Socket[] = [];

    beforeAll(async () => {
      // Accepts connections and never answers: a database that hangs rather than refuses.
      hanging = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
      hangingPort = (hanging.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hanging.close(resolve));
    });

    it('answers its first invocation, import included, well inside Cognito’s 5 s', async () => {
      const run = await coldInvocation({ DATABASE_URL: url, CLAIMS_NAMESPACE: NS }, userEvent(JANE));
      expect(run.result.answer).toMatchObject({ response: { claimsAndScopeOverrideDetails: { accessTokenGeneration: { claimsToAddOrOverride: acmeClaims() } } } });
      expect(run.result.ms).toBeLessThan(2_500);
    });

    it('fails closed when the store is down, with a message that names nothing but the request id', async () => {
      const run = await coldInvocation({ DATABASE_URL: 'postgres://iam:db-password-s3cret@127.0.0.1:1/iam', DB_CONNECT_TIMEOUT_MS: '500' }, userEvent(JANE));
      expect(run.result.error).toEqual({
        name: 'PreTokenRefusal',
        status: 503,
        code: 'dependency-unavailable',
        message: 'Token enrichment is unavailable; retry shortly (request id cold-start-1).',
      });
      expect(run.lines).toContainEqual(expect.objectContaining({ operation: 'claims.by_subject', database_errors_total: 1 }));
      expect(run.lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'request failed', status: 503, request_id: 'cold-start-1' }));
      expect(run.lines).toContainEqual(expect.objectContaining({ handler: 'cognito-pre-token-generation', dialect: 'cognito', http_status: 503 }));
      expect(run.stdout).not.toContain('db-password-s3cret');
    });

    it('gives up on a hanging store after the query timeout, long before Cognito’s 5 s', async () => {
      const env = { DATABASE_URL: `postgres://iam@127.0.0.1:${hangingPort}/iam`, DB_CONNECT_TIMEOUT_MS: '60000', DB_QUERY_TIMEOUT_MS: '400' };
      const run = await coldInvocation(env, userEvent(JANE));
      expect(run.result.error).toMatchObject({ status: 503, code: 'dependency-unavailable' });
      expect(run.result.invokeMs).toBeGreaterThanOrEqual(390);
      expect(run.result.invokeMs).toBeLessThan(1_000);
    });
  });
});

interface ColdRun {
  result: { ms: number; invokeMs: number; answer?: unknown; error?: Record<string, unknown> };
  lines: Array<Record<string, unknown>>;
  stdout: string;
}

/** Imports the function in a new Node process and invokes it once, timing both. */
async function coldInvocation(env: Record<string, string>, event: unknown): Promise<ColdRun> {
  const script = `
    const started = performance.now();
    const { handler } = await import('./functions/cognito-pre-token.ts');
    const invoked = performance.now();
    const context = { awsRequestId: 'cold-start-1', getRemainingTimeInMillis: () => 5000 };
    let outcome;
    try {
      outcome = { answer: await handler(JSON.parse(process.env.TEST_COGNITO_EVENT), context) };
    } catch (error) {
      outcome = { error: { name: error.name, status: error.status, code: error.code, message: error.message } };
    }
    const now = performance.now();
    process.stdout.write('RESULT ' + JSON.stringify({ ms: now - started, invokeMs: now - invoked, ...outcome }) + '\\n');
    process.exit(0);
  `;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env: { PATH: process.env.PATH ?? '', ...env, TEST_COGNITO_EVENT: JSON.stringify(event) }, encoding: 'utf8', timeout: 20_000 },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    ),
  );
  const lines = stdout.split('\n').filter(Boolean);
  const result = lines.find((line) => line.startsWith('RESULT '));
  if (!result) throw new Error(`no result in the child's output:\n${stdout}`);
  return {
    result: JSON.parse(result.slice('RESULT '.length)) as ColdRun['result'],
    lines: lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
    stdout,
  };
}
