import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { npmStart as startStack, REPO_ROOT, type StartedStack } from '../support/npm-start.js';
import { arbitraryRequest, mutation, send, sign, type WireRequest } from '../support/sigv4.js';

/**
 * `npm start` as a user runs it, on its embedded default (no DATABASE_URL): a real embedded
 * PostgreSQL, migrations, the demo policy, the HTTP front and the Function URL. Then Ctrl-C,
 * and a second start.
 */
const stateDir = mkdtempSync(join(tmpdir(), 'iam-npm-start-'));
const pgPort = 56000 + Math.floor(Math.random() * 2000);

type Started = StartedStack;

/** On the embedded default (no DATABASE_URL), on ports of its own. */
const npmStart = () => startStack(stateDir, { EMBEDDED_PG_PORT: String(pgPort) });
const stop = (started: Started) => started.stop();

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const enrich = (stack: Started['stack'], body: unknown, headers: Record<string, string> = { 'x-api-key': stack.api_key }) =>
  fetch(stack.enrich_url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const DEMO_CLAIMS = {
  subject: 'user-alice',
  subject_type: 'user',
  tenant: { slug: 'acme' },
  roles: ['billing-admin', 'viewer'],
  permissions: ['invoices:read', 'invoices:write', 'payments:read', 'reports:read'],
};

/** The demo call as a gateway sends it to the Function URL, before signing. */
const iamCall = (stack: Started['stack'], body = '{"subject":"user-alice","tenant":"acme"}'): WireRequest => ({
  method: 'POST',
  rawPath: '/',
  rawQuery: '',
  headers: { host: new URL(stack.enrich_iam_url).host, 'content-type': 'application/json' },
  body: Buffer.from(body),
});
const keysOf = (stack: Started['stack']) => ({ accessKeyId: stack.aws.access_key_id, secretAccessKey: stack.aws.secret_access_key });

/**
 * Marks a request with an (unsigned) `x-request-id`, which the handler keeps and writes in its EMF
 * line: a marker that never shows up in the output is a request the handler never saw.
 */
const marked = (request: WireRequest, marker: string): WireRequest => ({ ...request, headers: { ...request.headers, 'x-request-id': marker } });

/** Waits for one valid signed call's EMF line, so that every earlier request's line is out. */
async function flushedOutput(started: Started): Promise<string> {
  const marker = `flush-${randomUUID()}`;
  const answer = await send(started.stack.enrich_iam_url, marked(await sign(iamCall(started.stack), keysOf(started.stack)), marker));
  expect(answer.status).toBe(200);
  await waitFor(() => started.output().includes(marker));
  return started.output();
}

/** Lambda's own refusal: its error type, its body, none of the handler's headers. */
function expectLambdaRefusal(answer: Awaited<ReturnType<typeof send>>) {
  expect(answer.status).toBe(403);
  expect(answer.headers['x-amzn-errortype']).toBe('AccessDeniedException');
  expect(answer.headers['x-request-id']).toBeUndefined();
  expect(JSON.parse(answer.body)).toEqual({ Message: expect.stringMatching(/^Forbidden\./) });
}

describe('npm start', () => {
  let first: Started | undefined;
  afterAll(async () => {
    if (first?.child.exitCode === null) await stop(first);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('serves enrich-token for the demo subject on an embedded PostgreSQL', async () => {
    first = await npmStart();
    const { stack } = first;
    expect(stack.enrich_url).toBe(`${stack.api_url}/system/enrich-token`);
    expect(first.output()).toContain(stack.curl);
    const response = await enrich(stack, { subject: stack.demo.subject, tenant: stack.demo.tenant });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      subject: 'user-alice',
      subject_type: 'user',
      tenant: { slug: 'acme' },
      roles: ['billing-admin', 'viewer'],
      permissions: ['invoices:read', 'invoices:write', 'payments:read', 'reports:read'],
    });
  }, 90_000);

  it('prints the Function URL and the key pair it signs with, kept in state.json', async () => {
    const { stack } = first!;
    expect(stack.enrich_api_url).toBe(stack.enrich_url);
    expect(stack.forward_auth_url).toBe(`${stack.api_url}/system/forward-auth`);
    expect(new URL(stack.enrich_iam_url).port).not.toBe(new URL(stack.api_url).port);
    expect(stack.aws).toEqual({ region: 'eu-west-1', access_key_id: expect.stringMatching(/^AKIA[A-Z2-7]{16}$/), secret_access_key: expect.any(String) });
    for (const line of [stack.enrich_iam_url, stack.aws.access_key_id, stack.aws.secret_access_key, stack.iam_curl]) expect(first!.output()).toContain(line);
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8'));
    expect(state.aws).toMatchObject({ access_key_id: stack.aws.access_key_id, secret_access_key: stack.aws.secret_access_key });
  });

  it('serves the Function URL to a request signed with the stack keys (any path, as AWS)', async () => {
    const { stack } = first!;
    const answer = await send(stack.enrich_iam_url, await sign(iamCall(stack), keysOf(stack)));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject(DEMO_CLAIMS);
    const elsewhere = await send(stack.enrich_iam_url, await sign({ ...iamCall(stack), rawPath: '/system/enrich-token', rawQuery: 'b=2&a=1' }, keysOf(stack)));
    expect(elsewhere.status).toBe(200);
  });

  it('serves the printed curl line (curl --aws-sigv4)', () => {
    const answer = execFileSync('sh', ['-c', first!.stack.iam_curl], { encoding: 'utf8' });
    expect(JSON.parse(answer)).toMatchObject(DEMO_CLAIMS);
  });

  it('refuses unsigned, tampered, wrongly keyed, wrongly scoped and stale requests before the handler runs', async () => {
    const { stack } = first!;
    const keys = keysOf(stack);
    const signed = await sign(iamCall(stack), keys);
    const attempts: Record<string, WireRequest> = {
      unsigned: iamCall(stack),
      'another scheme': { ...iamCall(stack), headers: { ...iamCall(stack).headers, authorization: `Bearer ${stack.api_key}` } },
      'an API key instead of a signature': { ...iamCall(stack), headers: { ...iamCall(stack).headers, 'x-api-key': stack.api_key } },
      'a tampered body': { ...signed, body: Buffer.from('{"subject":"user-bob","tenant":"acme"}') },
      'a wrong secret': await sign(iamCall(stack), { ...keys, secretAccessKey: `${keys.secretAccessKey.slice(1)}x` }),
      'an unknown access key': await sign(iamCall(stack), { ...keys, accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' }),
      'another region': await sign(iamCall(stack), keys, { region: 'us-east-1' }),
      'another service': await sign(iamCall(stack), keys, { service: 'execute-api' }),
      'a date 10 minutes old': await sign(iamCall(stack), keys, { date: new Date(Date.now() - 10 * 60_000) }),
    };
    const marker = `refused-${randomUUID()}`;
    for (const [name, request] of Object.entries(attempts)) {
      const answer = await send(stack.enrich_iam_url, marked(request, marker));
      expect({ name, status: answer.status }).toEqual({ name, status: 403 });
      expectLambdaRefusal(answer);
    }
    expect(await flushedOutput(first!)).not.toContain(marker);
  });

  it('refuses every change to a signed request with 403, never 200 or 5xx (property, real HTTP)', async () => {
    const { stack } = first!;
    const keys = keysOf(stack);
    const marker = `mutated-${randomUUID()}`;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(arbitraryRequest(new URL(stack.enrich_iam_url).host), mutation, async (request, change) => {
        const changed = change.apply(await sign(request, keys));
        if (!changed) return;
        sent += 1;
        expectLambdaRefusal(await send(stack.enrich_iam_url, marked(changed, marker)));
      }),
      { numRuns: 300 },
    );
    expect(sent).toBeGreaterThan(250);
    expect(await flushedOutput(first!)).not.toContain(marker);
    process.stderr.write(`function URL property: ${sent} mutated signed requests, all 403 before the handler\n`);
  }, 60_000);

  it('keeps the HTTP API route on keys: never a SigV4 identity there', async () => {
    const { stack } = first!;
    const withKey = await enrich(stack, { subject: 'user-alice', tenant: 'acme' });
    expect(withKey.status).toBe(200);
    // Signed correctly with the stack's keys, but the HTTP API does not read signatures.
    const api = new URL(stack.enrich_api_url);
    const signed = await sign({ ...iamCall(stack), rawPath: api.pathname, headers: { host: api.host, 'content-type': 'application/json' } }, keysOf(stack));
    const answer = await send(stack.enrich_api_url, signed);
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/problem+json');
  });

  it('refuses a call without a key', async () => {
    const response = await enrich(first!.stack, { subject: 'user-alice' }, {});
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('serves the admin API to the printed admin token and to a fresh client-credentials token', async () => {
    const { stack } = first!;
    const listed = await fetch(`${stack.api_url}/tenants`, { headers: { authorization: `Bearer ${stack.idp.admin_token}` } });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: Array<{ slug: string }> }).items.map((t) => t.slug)).toEqual(['acme', 'globex', 'platform']);
    // npm start runs the dev IdP here, so its token endpoint and admin client are in stack.json.
    const { token_endpoint: tokenEndpoint, admin } = stack.idp;
    expect(tokenEndpoint).toBeDefined();
    const grant = await fetch(tokenEndpoint!, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${admin!.client_id}:${admin!.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    const { access_token } = (await grant.json()) as { access_token: string };
    const role = await fetch(`${stack.api_url}/tenants/acme/roles/viewer`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await role.json()).toMatchObject({ tenant: 'acme', name: 'viewer', permissions: ['invoices:read', 'reports:read'] });
  });

  it('answers an unknown route with a problem that names it, and a request id', async () => {
    const response = await fetch(`${first!.stack.api_url}/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'urn:citadel:iam:problem:route-not-found', title: 'Not Found', status: 404, detail: expect.stringContaining('GET /nope') });
    expect(response.headers.get('x-request-id')).toBe(body.request_id);
  });

  it('writes ready-made Hydra, Oathkeeper and Cognito requests whose printed commands work', async () => {
    const { stack } = first!;
    const run = (command: string) => execFileSync('sh', ['-c', command], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, IAM_TEST_OUTPUT: '' } });
    for (const command of [stack.requests.hydra, stack.requests.oathkeeper, stack.requests.cognito]) expect(first!.output()).toContain(command);
    const hydra = JSON.parse(run(stack.requests.hydra));
    const claims = { tenant: 'acme', subject_type: 'user', roles: ['billing-admin', 'viewer'], entitlements: DEMO_CLAIMS.permissions };
    expect(hydra).toMatchObject({ session: { access_token: claims, id_token: claims } });
    const oathkeeper = JSON.parse(run(stack.requests.oathkeeper));
    expect(oathkeeper).toMatchObject({ subject: 'user-alice', extra: { tenant: 'acme', roles: ['billing-admin', 'viewer'] }, header: { 'X-Auth-Tenant': ['acme'] } });
    const cognito = JSON.parse(run(stack.requests.cognito));
    expect(cognito.response.claimsAndScopeOverrideDetails).toMatchObject({ idTokenGeneration: { claimsToAddOrOverride: claims }, accessTokenGeneration: { claimsToAddOrOverride: claims } });
  }, 60_000);

  it('invokes the Cognito trigger with an event it refuses: the reason on stderr, exit code 1', () => {
    const event = JSON.parse(readFileSync(join(stateDir, 'requests', 'cognito-v2.json'), 'utf8'));
    event.request.userAttributes['custom:tenant'] = 'globex';
    const file = join(stateDir, 'requests', 'cognito-other-tenant.json');
    writeFileSync(file, JSON.stringify(event));
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'local/invoke.ts', 'cognito', file], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, IAM_LOCAL_DIR: stateDir } });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^npm run invoke: cognito-pre-token threw: .*globex/m);
  }, 30_000);

  it('stops everything it started on Ctrl-C', async () => {
    expect(await portOpen(pgPort)).toBe(true);
    expect(await stop(first!)).toBe(true);
    expect(await portOpen(pgPort)).toBe(false);
    expect(await portOpen(Number(new URL(first!.stack.api_url).port))).toBe(false);
    expect(await portOpen(Number(new URL(first!.stack.enrich_iam_url).port))).toBe(false);
    expect(existsSync(join(stateDir, 'npm-start.lock'))).toBe(false);
  }, 30_000);

  it('reuses its data and API key on a second start', async () => {
    const second = await npmStart();
    try {
      expect(second.stack.api_key).toBe(first!.stack.api_key);
      expect(second.stack.aws).toEqual(first!.stack.aws);
      expect((await send(second.stack.enrich_iam_url, await sign(iamCall(second.stack), keysOf(second.stack)))).status).toBe(200);
      expect(second.output()).toContain('"count":0');
      expect((await enrich(second.stack, { subject: 'user-alice' })).status).toBe(200);
    } finally {
      expect(await stop(second)).toBe(true);
    }
  }, 90_000);

  it('takes over from a start that was killed (kill -9), stopping the PostgreSQL it left running', async () => {
    const killed = await npmStart();
    const exited = new Promise((resolve) => killed.child.once('exit', resolve));
    killed.child.kill('SIGKILL');
    await exited;
    expect(await portOpen(pgPort)).toBe(true); // its embedded PostgreSQL outlives it
    const next = await npmStart();
    try {
      expect(next.output()).toContain('took over .local from an npm start that is no longer running');
      expect(next.output()).toContain('stopped the embedded PostgreSQL an earlier npm start left running');
      expect((await enrich(next.stack, { subject: 'user-alice' })).status).toBe(200);
    } finally {
      expect(await stop(next)).toBe(true);
    }
    expect(await portOpen(pgPort)).toBe(false);
  }, 120_000);
});
