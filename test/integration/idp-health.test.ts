/**
 * The IdP health probe against the real dev IdP (behind a counting proxy, so every call that
 * reaches R-Auth is seen) and a real PostgreSQL: all up, our credentials revoked, the IdP down.
 * It reports identity and access management apart, as the older IAM runbook escalates them, and
 * the route answers the stored report: however many callers, in however many containers, R-Auth
 * sees at most one probe per refresh. Two module instances of the function (jest's isolated
 * module registries) stand for two Lambda containers sharing the database.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createDatabase, type Database } from '../../lib/adapters/postgres/database.js';
import { postgresIdpHealthStore } from '../../lib/adapters/postgres/idp-health-store.js';
import { idpChecks } from '../../lib/adapters/oidc/idp-checks.js';
import { idpHealth, probeIdp } from '../../lib/health/idp-health.js';
import { createLogger } from '../../lib/observability/logger.js';
import type { HealthRuntime } from '../../lib/wiring/idp-health.js';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';
import { type CountingProxy, startCountingProxy } from '../support/counting-proxy.js';
import { type Answer, invoke } from '../support/invoke.js';
import { OpenApiContract } from '../support/openapi.js';
import { testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

type Module = typeof import('../../functions/idp-health.js');

describe('IdP health', () => {
  let idp: DevIdp;
  let proxy: CountingProxy;
  let db: Database;
  /** Two containers: their handlers and their runtimes (to close their pools). */
  let containers: Array<{ handler: LambdaHttpHandler; scheduled: Module['scheduled']; app: HealthRuntime }>;
  const emitted: string[] = [];

  const load = async () => {
    const { handler, scheduled } = await import('../../functions/idp-health.js');
    const { healthRuntime } = await import('../../lib/wiring/idp-health.js');
    return { handler, scheduled, app: healthRuntime() };
  };

  beforeAll(async () => {
    idp = await startDevIdp({ adminSubject: 'iam-service-probe' });
    const url = await createTestDatabase();
    [proxy, db] = await Promise.all([startCountingProxy(idp.issuer), testDatabase(url)]);
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    Object.assign(process.env, {
      DATABASE_URL: url,
      RAUTH_URL: proxy.origin,
      ADMIN_TOKEN_AUDIENCE: idp.audience,
      RAUTH_ADMIN_CLIENT_ID: idp.admin.client_id,
      RAUTH_ADMIN_CLIENT_SECRET: idp.admin.client_secret,
      IDP_TIMEOUT_MS: '1000',
      IDP_HEALTH_MAX_AGE_SECONDS: '60',
    });
    containers = [await load()];
    await jest.isolateModulesAsync(async () => {
      containers.push(await load());
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await Promise.all([...containers.map(({ app }) => app.db.end()), db.end(), proxy.stop(), idp.stop()]);
  });

  /** `count` concurrent GETs, spread over both containers; returns the answers and what R-Auth saw. */
  const burst = async (count: number) => {
    const before = proxy.requests.length;
    emitted.length = 0;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => invoke(containers[i % 2]!.handler, { method: 'GET', path: '/system/idp-health' })),
    );
    const reached = proxy.requests.slice(before);
    return { answers, reached, probes: reached.filter((r) => r.startsWith('GET /.well-known/openid-configuration')).length };
  };
  const contract = new OpenApiContract();
  /** Violations of openapi.yaml's idpHealth operation, for each distinct kind of answer. */
  const undocumented = (answers: Answer[]) =>
    answers.flatMap((answer) =>
      contract.check({
        operationId: 'idpHealth',
        method: 'GET',
        path: '/system/idp-health',
        request: { headers: {}, query: {}, params: {} },
        status: answer.status,
        headers: new Headers(answer.headers),
        text: JSON.stringify(answer.json),
      }),
    );
  const statusOf = (answer: Answer) => `${answer.status} ${String(answer.json.status)}`;
  const tally = (answers: Answer[]) => answers.reduce<Record<string, number>>((all, a) => ({ ...all, [statusOf(a)]: (all[statusOf(a)] ?? 0) + 1 }), {});
  const counted = () => emitted.filter((line) => line.includes('idp_adapter_errors_total')).map((line) => JSON.parse(line).operation as string);
  const stored = async () => (await db.query<{ checked_at: Date | null; probing_until: Date | null }>('test.idp_health', 'SELECT checked_at, probing_until FROM idp_health'))[0]!;
  const setRow = (sql: string) => db.query('test.idp_health_set', `UPDATE idp_health SET ${sql}`);

  it('answers 503 "unknown", not a failure of R-Auth, while the very first probe runs elsewhere', async () => {
    await setRow(`probing_until = now() + interval '30 seconds'`);

    const { answers, reached } = await burst(4);

    expect(reached).toEqual([]);
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers['content-type']).toBe('application/health+json');
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.json).toEqual({ status: 'unknown', detail: 'The IdP health probe has not run yet; retry in a few seconds.' });
    }
    expect(counted()).toEqual([]);
    expect(undocumented(answers)).toEqual([]);
    await setRow('probing_until = NULL');
  });

  it('probes R-Auth once for 100 concurrent first callers in two containers, with no false failure', async () => {
    const { answers, reached, probes } = await burst(100);

    expect(probes).toBe(1);
    expect(reached).toHaveLength(4); // discovery, jwks, token, registration
    const seen = tally(answers);
    expect(seen['503 fail']).toBeUndefined();
    // The winner's container shares its probe; the other's callers see it stored, or "unknown" if they read before it was.
    expect((seen['200 pass'] ?? 0) + (seen['503 unknown'] ?? 0)).toBe(100);
    expect(seen['200 pass']).toBeGreaterThanOrEqual(50);
    expect((await stored()).probing_until).toBeNull();
  });

  it('serves the stored report, timed per check, to 100 concurrent callers without calling R-Auth', async () => {
    const { answers, reached } = await burst(100);

    expect(reached).toEqual([]);
    expect(tally(answers)).toEqual({ '200 pass': 100 });
    const [answer] = answers;
    expect(answer!.headers['content-type']).toBe('application/health+json');
    expect(answer!.json).toMatchObject({ status: 'pass', identity: 'pass', 'access-management': 'pass', checked_at: (await stored()).checked_at!.toISOString() });
    expect(answer!.json.age).toBeGreaterThanOrEqual(0);
    expect(answer!.json.age).toBeLessThan(60);
    expect((answer!.json.checks as Array<{ name: string; component: string; status: string; latency_ms: number }>).map((c) => [c.name, c.component, c.status])).toEqual([
      ['discovery', 'identity', 'pass'],
      ['jwks', 'identity', 'pass'],
      ['token', 'identity', 'pass'],
      ['registration', 'access-management', 'pass'],
    ]);
    expect(JSON.stringify(answers.map((a) => a.json))).not.toContain(idp.admin.client_secret);
    expect(counted()).toEqual([]);
    expect(undocumented(answers)).toEqual([]);
  });

  it('refreshes a stale report exactly once for 100 concurrent callers in two containers', async () => {
    await setRow(`checked_at = now() - interval '120 seconds'`);

    const { answers, reached, probes } = await burst(100);

    expect(probes).toBe(1);
    expect(reached).toHaveLength(4);
    expect(tally(answers)).toEqual({ '200 pass': 100 });
    // Callers who lost the lease were served the stale report, saying how old it was.
    const ages = answers.map((a) => a.json.age as number);
    expect(ages.every((age) => age < 1 || (age >= 120 && age < 125))).toBe(true);
    expect(ages.filter((age) => age < 1).length).toBeGreaterThanOrEqual(50);
    expect(Date.now() - (await stored()).checked_at!.getTime()).toBeLessThan(5_000);
  });

  it('lets one of 100 containers, each on its own, take the lease to refresh a stale report', async () => {
    // One instance of the use case per "container": no shared in-flight promise, only the database.
    const pool = createDatabase({
      url: process.env.DATABASE_URL,
      poolMax: 20,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 1_000,
      queryTimeoutMs: 10_000,
      namedStatements: false,
      log: createLogger('error'),
      metrics: { databaseError: () => undefined },
    });
    const fleet = Array.from({ length: 100 }, () =>
      idpHealth({
        checks: idpChecks({ issuer: proxy.origin, adminClient: async () => ({ id: idp.admin.client_id, secret: idp.admin.client_secret }), audience: idp.audience, timeoutMs: 1000 }),
        metrics: { idpError: () => undefined },
        store: postgresIdpHealthStore(pool),
        log: createLogger('error'),
        maxAgeSeconds: 60,
        leaseSeconds: 7,
      }),
    );
    await setRow(`checked_at = now() - interval '120 seconds'`);
    const before = proxy.requests.length;
    try {
      const answers = await Promise.all(fleet.map((container) => container.answer()));
      const reached = proxy.requests.slice(before);
      expect(reached.filter((r) => r.startsWith('GET /.well-known/openid-configuration'))).toHaveLength(1);
      expect(reached).toHaveLength(4);
      expect(answers.every((a) => a.kind === 'report' && a.stored.report.status === 'pass')).toBe(true);
      expect(answers.filter((a) => a.kind === 'report' && a.stored.ageSeconds < 1).length).toBeGreaterThanOrEqual(1);
    } finally {
      await pool.end();
    }
  });

  it('serves a stale report while another container holds the lease, and takes over a lease whose holder died', async () => {
    await setRow(`checked_at = now() - interval '120 seconds', probing_until = now() + interval '30 seconds'`);
    const held = await burst(10);
    expect(held.reached).toEqual([]);
    expect(held.answers.every((a) => a.status === 200 && (a.json.age as number) >= 120)).toBe(true);

    await setRow(`probing_until = now() - interval '1 second'`);
    const expired = await burst(10);
    expect(expired.probes).toBe(1);
    expect((await stored()).probing_until).toBeNull();
  });

  it('probes on the schedule and stores the report the route then serves', async () => {
    const before = proxy.requests.length;
    const report = await containers[1]!.scheduled();
    expect(report.status).toBe('pass');
    expect(proxy.requests.length - before).toBe(4);

    const { answers, reached } = await burst(2);
    expect(reached).toEqual([]);
    expect(answers[0]!.json.checked_at).toBe((await stored()).checked_at!.toISOString());
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

  it('reports the IdP down within its timeouts, probed and counted once for 100 concurrent callers, not once per caller', async () => {
    await idp.stop();
    await setRow(`checked_at = now() - interval '120 seconds'`);
    const started = Date.now();

    const { answers, probes } = await burst(100);

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(probes).toBe(1);
    expect(counted()).toEqual(['discovery', 'jwks', 'token', 'registration']);
    const failed = answers.filter((a) => a.status === 503);
    expect(failed.length).toBeGreaterThanOrEqual(50);
    expect(failed[0]!.json).toMatchObject({ status: 'fail', identity: 'fail', 'access-management': 'fail' });
    expect((failed[0]!.json.checks as Array<{ status: string }>).every((c) => c.status === 'fail')).toBe(true);
    // The rest lost the lease and were served the stored (stale, passing) report with its age.
    expect(answers.filter((a) => a.status !== 503).every((a) => a.status === 200 && (a.json.age as number) >= 120)).toBe(true);

    const after = await burst(100);
    expect(after.reached).toEqual([]);
    expect(tally(after.answers)).toEqual({ '503 fail': 100 });
    expect(counted()).toEqual([]);
    expect(undocumented([...answers, ...after.answers])).toEqual([]);

    emitted.length = 0;
    expect((await containers[0]!.scheduled()).status).toBe('fail');
    expect(counted()).toEqual(['discovery', 'jwks', 'token', 'registration']);
    expect(emitted.some((line) => line.includes('"msg":"IdP health check failed"'))).toBe(true);
  });
});
