/**
 * The IdP health probe against the real dev IdP: all up, our credentials revoked, the IdP down.
 * It reports identity and access management apart, as the older IAM runbook escalates them.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { idpChecks } from '../../lib/adapters/rauth/idp-checks.js';
import { probeIdp } from '../../lib/health/idp-health.js';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';
import { invoke } from '../support/invoke.js';

describe('IdP health', () => {
  let idp: DevIdp;
  let handler: LambdaHttpHandler;
  let scheduled: () => Promise<{ status: string }>;
  const emitted: string[] = [];

  beforeAll(async () => {
    idp = await startDevIdp({ adminSubject: 'iam-service-probe' });
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    Object.assign(process.env, {
      DATABASE_URL: 'postgres://iam@127.0.0.1:1/iam',
      RAUTH_URL: idp.issuer,
      ADMIN_TOKEN_AUDIENCE: idp.audience,
      RAUTH_ADMIN_CLIENT_ID: idp.admin.client_id,
      RAUTH_ADMIN_CLIENT_SECRET: idp.admin.client_secret,
      IDP_TIMEOUT_MS: '1000',
    });
    ({ handler, scheduled } = await import('../../functions/idp-health.js'));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await idp.stop();
  });

  const probe = (secret: string, fresh = secret) =>
    probeIdp({
      checks: idpChecks({
        issuer: idp.issuer,
        adminClient: async (options) => ({ id: idp.admin.client_id, secret: options?.fresh ? fresh : secret }),
        audience: idp.audience,
        timeoutMs: 1000,
      }),
      metrics: { idpError: (operation) => emitted.push(`idpError ${operation}`) },
    });

  it('answers 200 with every check passing, timed, as application/health+json', async () => {
    const answer = await invoke(handler, { method: 'GET', path: '/system/idp-health' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/health+json');
    expect(answer.json).toMatchObject({ status: 'pass', identity: 'pass', 'access-management': 'pass' });
    expect((answer.json.checks as Array<{ name: string; component: string; status: string; latency_ms: number }>).map((c) => [c.name, c.component, c.status])).toEqual([
      ['discovery', 'identity', 'pass'],
      ['jwks', 'identity', 'pass'],
      ['token', 'identity', 'pass'],
      ['registration', 'access-management', 'pass'],
    ]);
    expect(JSON.stringify(answer.json)).not.toContain(idp.admin.client_secret);
  });

  it('reads its credentials again when the IdP refuses them, so a rotated secret passes without a restart', async () => {
    emitted.length = 0;
    const report = await probe('secret-before-rotation', idp.admin.client_secret);
    expect(report).toMatchObject({ status: 'pass', identity: 'pass' });
    expect(emitted).toEqual([]);
  });

  it('fails identity alone, naming the token check, when our credentials are revoked', async () => {
    emitted.length = 0;
    const report = await probe('revoked-secret');
    expect(report).toMatchObject({ status: 'fail', identity: 'fail', 'access-management': 'pass' });
    expect(report.checks.find((c) => c.name === 'token')).toMatchObject({ status: 'fail', reason: 'credentials refused' });
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['token']);
    expect(emitted).toContain('idpError token');
  });

  it('answers 503 within its timeouts, with every check failed and counted, when the IdP is down', async () => {
    await idp.stop();
    emitted.length = 0;
    const started = Date.now();
    const answer = await invoke(handler, { method: 'GET', path: '/system/idp-health' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer.status).toBe(503);
    expect(answer.json).toMatchObject({ status: 'fail', identity: 'fail', 'access-management': 'fail' });
    expect((answer.json.checks as Array<{ status: string }>).every((c) => c.status === 'fail')).toBe(true);
    const counted = emitted.filter((line) => line.includes('idp_adapter_errors_total')).map((line) => JSON.parse(line).operation);
    expect(counted).toEqual(['discovery', 'jwks', 'token', 'registration']);
    expect((await scheduled()).status).toBe('fail');
  });
});
