import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Database } from '../../lib/adapters/postgres/database.js';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { forgetHome } from '../support/homes.js';
import { invoke, type Invocation } from '../support/invoke.js';
import { addRole, addTenant, mapSubject, testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

const KEY = 'enrich-test-key-0123456789abcdefghijklmnop';
const auth = { 'x-api-key': KEY };

describe('POST /system/enrich-token', () => {
  let handler: LambdaHttpHandler;
  let db: Database;
  let acmeId: string;
  const emitted: string[] = [];

  beforeAll(async () => {
    const url = await createTestDatabase();
    db = testDatabase(url);
    acmeId = await addTenant(db, 'acme');
    const globex = await addTenant(db, 'globex');
    const frozen = await addTenant(db, 'frozen', 'suspended');
    const billing = await addRole(db, acmeId, 'billing-admin', ['invoices:read', 'invoices:write']);
    await mapSubject(db, acmeId, 'u-123', [billing]);
    await mapSubject(db, acmeId, 'u-multi', [billing]);
    await mapSubject(db, globex, 'u-multi', []);
    await forgetHome(db, 'u-multi'); // in both from before home tenants
    await mapSubject(db, globex, 'u-homed', []); // globex first: its home
    await mapSubject(db, acmeId, 'u-homed', [billing]);
    await mapSubject(db, frozen, 'u-frozen', []);
    // EMF lines go through console.log, our own logs through stdout: keep both to assert on.
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void emitted.push(String(line)));
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    Object.assign(process.env, { DATABASE_URL: url, ENRICH_API_KEYS: KEY, LOG_LEVEL: 'debug' });
    ({ handler } = await import('../../functions/enrich-token.js'));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await (await import('../../lib/wiring/base.js')).runtime().db.end();
    await db.end();
  });

  const call = (input: Invocation) => invoke(handler, input);

  it('answers the subject with its tenant, roles and permissions', async () => {
    const answer = await call({ headers: auth, body: { subject: 'u-123', tenant: 'acme' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.json).toEqual({
      subject: 'u-123',
      subject_type: 'user',
      tenant: { id: acmeId, slug: 'acme' },
      roles: ['billing-admin'],
      permissions: ['invoices:read', 'invoices:write'],
    });
  });

  it('finds the tenant when the subject belongs to exactly one', async () => {
    expect(await call({ headers: auth, body: { subject: 'u-123', client_id: 'gateway-web' } })).toMatchObject({
      status: 200,
      json: { tenant: { slug: 'acme' } },
    });
  });

  it('accepts a caller the Function URL authenticated with AWS_IAM', async () => {
    const iam = { accountId: '123456789012', userArn: 'arn:aws:sts::123456789012:assumed-role/gateway/x' };
    expect((await call({ iam, body: { subject: 'u-123' } })).status).toBe(200);
  });

  it.each([
    ['no key', {}],
    ['a wrong key', { 'x-api-key': 'not-the-key-not-the-key-not-the-key' }],
  ])('refuses a caller with %s before reading the body', async (_, headers) => {
    const answer = await call({ headers, raw: '{not json' });
    expect(answer.status).toBe(401);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toMatchObject({ status: 401, type: 'urn:citadel:iam:problem:unauthorized' });
  });

  it.each([
    ['malformed JSON', { raw: '{"subject": "u-123"' }, /not valid JSON/],
    ['an empty body', { raw: '' }, /empty/],
    ['an unknown field', { body: { subject: 'u-123', roles: ['admin'] } }, /roles/],
    ['a subject of the wrong type', { body: { subject: 123 } }, /subject/],
    ['a missing subject', { body: { tenant: 'acme' } }, /subject/],
    ['an empty subject', { body: { subject: '' } }, /subject/],
    ['a subject with control characters', { body: { subject: 'u-1\n{"level":"error"}' } }, /control/],
    ['a malformed tenant slug', { body: { subject: 'u-123', tenant: '../etc' } }, /tenant slug/],
    ['an array instead of an object', { body: [{ subject: 'u-123' }] }, /expected object/],
    ['null', { raw: 'null' }, /expected object/],
  ])('answers %s with 400 saying what is wrong', async (_, input, detail) => {
    const answer = await call({ headers: auth, ...input });
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toMatchObject({ status: 400, title: 'Bad Request', type: 'urn:citadel:iam:problem:bad-request' });
    expect(String(answer.json.detail)).toMatch(detail);
    expect(answer.json.request_id).toEqual(expect.any(String));
  });

  it('answers an oversized body with 413', async () => {
    const answer = await call({ headers: auth, body: { subject: 'u'.repeat(70_000) } });
    expect(answer).toMatchObject({ status: 413, json: { status: 413, type: 'urn:citadel:iam:problem:payload-too-large' } });
  });

  it('answers a non-JSON media type with 415', async () => {
    const answer = await call({ headers: { ...auth, 'content-type': 'text/plain' }, raw: 'subject=u-123' });
    expect(answer).toMatchObject({ status: 415, json: { status: 415 } });
  });

  it.each([
    ['an unknown tenant', { subject: 'u-123', tenant: 'nope' }, 404, 'subject-not-found'],
    ['an unknown subject', { subject: 'u-unknown' }, 404, 'subject-not-found'],
    ['a subject outside the named tenant', { subject: 'u-123', tenant: 'globex' }, 404, 'subject-not-found'],
    ['a suspended tenant', { subject: 'u-frozen' }, 403, 'tenant-suspended'],
    ['a subject in several tenants without a tenant', { subject: 'u-multi' }, 409, 'tenant-required'],
  ])('refuses %s', async (_, body, status, code) => {
    const answer = await call({ headers: auth, body });
    expect(answer).toMatchObject({ status, json: { status, type: `urn:citadel:iam:problem:${code}` } });
  });

  it('answers a subject in several tenants from its home tenant when none is named', async () => {
    expect(await call({ headers: auth, body: { subject: 'u-homed' } })).toMatchObject({ status: 200, json: { tenant: { slug: 'globex' }, roles: [] } });
    expect(await call({ headers: auth, body: { subject: 'u-homed', tenant: 'acme' } })).toMatchObject({ status: 200, json: { tenant: { slug: 'acme' }, roles: ['billing-admin'] } });
  });

  it('answers a tenant the subject is not in with the same 404 whether it exists, is suspended or not, and whether the subject is known', async () => {
    const bodies = await Promise.all(
      [
        { subject: 'u-123', tenant: 'globex' },
        { subject: 'u-123', tenant: 'frozen' },
        { subject: 'u-123', tenant: 'no-such-tenant' },
        { subject: 'u-unknown', tenant: 'globex' },
      ].map(async (body) => {
        const answer = await call({ headers: auth, body });
        return JSON.stringify({ status: answer.status, ...answer.json, request_id: undefined, detail: String(answer.json.detail).replace(body.tenant, '<t>') });
      }),
    );
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ status: 404, type: 'urn:citadel:iam:problem:subject-not-found' });
  });

  it('answers 403 at once after a tenant is suspended', async () => {
    expect((await call({ headers: auth, body: { subject: 'u-123' } })).status).toBe(200);
    await db.query('test.suspend', "UPDATE tenants SET status = 'suspended' WHERE slug = 'acme'");
    try {
      expect((await call({ headers: auth, body: { subject: 'u-123' } })).status).toBe(403);
    } finally {
      await db.query('test.resume', "UPDATE tenants SET status = 'active' WHERE slug = 'acme'");
    }
  });

  it('echoes a well-formed X-Request-Id and replaces a hostile one', async () => {
    const kept = await call({ headers: { ...auth, 'x-request-id': 'gw-42.abc' }, body: { subject: 'u-123' } });
    expect(kept.headers['x-request-id']).toBe('gw-42.abc');
    const replaced = await call({ headers: { ...auth, 'x-request-id': 'x'.repeat(200) }, body: { subject: 'nope' } });
    expect(replaced.headers['x-request-id']).not.toContain('xxxx');
    expect(replaced.json.request_id).toBe(replaced.headers['x-request-id']);
  });

  it('emits the runbook metrics for every request, per handler, status class and (once known) dialect', async () => {
    emitted.length = 0;
    await call({ headers: auth, body: { subject: 'u-123' } });
    await call({ body: { subject: 'u-123' } });
    const metrics = emitted.map((line) => JSON.parse(line)).filter((entry) => entry._aws);
    expect(metrics).toHaveLength(2);
    // The refused caller never got as far as a dialect: its line has no such dimension.
    const dimensions = { '2xx': [['handler'], ['handler', 'status'], ['handler', 'dialect']], '4xx': [['handler'], ['handler', 'status']] };
    expect(metrics.map((entry) => entry.dialect)).toEqual(['native', undefined]);
    for (const [entry, status] of [[metrics[0], '2xx'], [metrics[1], '4xx']] as const) {
      expect(entry).toMatchObject({ handler: '/system/enrich-token', status, http_requests_total: 1 });
      expect(entry.http_request_duration_seconds).toBeGreaterThan(0);
      expect(entry.http_request_duration_seconds).toBeLessThan(5);
      expect(entry._aws.CloudWatchMetrics[0]).toMatchObject({
        Dimensions: dimensions[status],
        Metrics: [
          { Name: 'http_requests_total', Unit: 'Count' },
          { Name: 'http_request_duration_seconds', Unit: 'Seconds' },
        ],
      });
    }
  });

  it('never writes the API key to its output', async () => {
    await call({ headers: { 'x-api-key': KEY.replace('e', 'E') }, body: { subject: 'u-123' } });
    await call({ headers: auth, raw: `{"subject": "${KEY}"` });
    expect(emitted.length).toBeGreaterThan(0);
    expect(emitted.join('\n')).not.toContain(KEY.slice(10));
  });
});
