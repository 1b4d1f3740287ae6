/**
 * Concurrent admin writes, as a burst from two admins would make them: role, user and client
 * writes on one tenant through the admin API (pool of 8, the real dev IdP). None may answer
 * 5xx — they take their locks in one order (lib/admin/lock-order.ts) and a deadlock that still
 * happens is retried — and afterwards the read model equals a recompute from the policy tables,
 * with exactly one audit row and one event per successful write.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';
import { drift } from '../support/claims-truth.js';

type Admin = 'platformAdmin' | 'tenantAdmin';
interface Write {
  admin: Admin;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

const WRITES = 200;
const ROLES = ['r0', 'r1', 'r2', 'r3'];
const USERS = Array.from({ length: 10 }, (_, i) => `u${i}`);

describe('concurrent admin writes', () => {
  let stack: AdminStack;
  const emitted: string[] = [];
  const clients: string[] = [];
  const deadlocks = async () =>
    Number((await stack.db.query<{ n: string }>('test.deadlocks', 'SELECT deadlocks::text AS n FROM pg_stat_database WHERE datname = current_database()'))[0]!.n);

  beforeAll(async () => {
    stack = await startAdminStack({ DB_POOL_MAX: '8', LOG_LEVEL: 'warn' });
    const admin = (method: string, path: string, body?: unknown) => stack.call('platformAdmin', method, path, body);
    for (const [i, name] of ROLES.entries()) expect((await admin('POST', '/tenants/acme/roles', { name, permissions: [`p${i}:read`] })).status).toBe(201);
    for (const [i, user] of USERS.entries()) expect((await admin('PUT', `/tenants/acme/users/${user}`, { roles: ROLES.filter((_, r) => (i >> r) & 1) })).status).toBe(201);
    for (let i = 0; i < 8; i += 1) {
      const created = await admin('POST', '/tenants/acme/clients', { client_name: `worker ${i}`, roles: [ROLES[i % ROLES.length]!] });
      expect(created.status).toBe(201);
      clients.push(created.json.client_id);
    }
    // Captured from here on: the burst's metric and log lines.
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await stack?.stop();
  });

  it('answers no 5xx to 200 mixed role, user and client writes from two admins, and leaves the read model equal to a recompute', async () => {
    let seed = 11;
    // The LCG's low bits cycle quickly: take the high ones.
    const random = (n: number) => (((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 15) % n);
    const pick = <T>(items: readonly T[]) => items[random(items.length)]!;
    const some = <T>(items: readonly T[]) => items.filter(() => random(2) === 1);
    const temporary = ['t0', 't1', 't2', 't3'];
    const any = { 'if-match': '*' };
    const write = (): Omit<Write, 'admin'> => {
      const roll = random(100);
      const client = encodeURIComponent(pick(clients));
      if (roll < 30) return { method: 'PATCH', path: `/tenants/acme/roles/${pick([...ROLES, ...temporary])}`, body: { permissions: [`p${random(9)}:read`, `p${random(9)}:write`] }, headers: any };
      if (roll < 35) return { method: 'POST', path: '/tenants/acme/roles', body: { name: pick(temporary), permissions: ['tmp:read'] } };
      if (roll < 40) return { method: 'DELETE', path: `/tenants/acme/roles/${pick(temporary)}` };
      if (roll < 72) return { method: 'PUT', path: `/tenants/acme/users/${pick(USERS)}`, body: { roles: some([...ROLES, ...temporary]) } };
      if (roll < 76) return { method: 'DELETE', path: `/tenants/acme/users/${pick(USERS)}` };
      if (roll < 88) return { method: 'PATCH', path: `/tenants/acme/clients/${client}`, body: { roles: some([...ROLES, ...temporary]) }, headers: any };
      if (roll < 91) return { method: 'PATCH', path: `/tenants/acme/clients/${client}`, body: { client_name: `worker ${random(1000)}`, roles: some(ROLES) }, headers: any };
      if (roll < 94) return { method: 'POST', path: `/tenants/acme/clients/${client}/secret` };
      if (roll < 96) return { method: 'POST', path: '/tenants/acme/clients', body: { client_name: 'burst', roles: some(ROLES) } };
      if (roll < 98) return { method: 'DELETE', path: `/tenants/acme/clients/${client}` };
      return { method: 'PATCH', path: '/tenants/acme', body: { name: `Acme ${random(1000)}` }, headers: any };
    };
    // Tenant updates are the platform's; everything else comes from either admin.
    const burst: Write[] = Array.from({ length: WRITES }, () => {
      const w = write();
      return { ...w, admin: w.path === '/tenants/acme' || random(2) === 0 ? 'platformAdmin' : 'tenantAdmin' };
    });

    const outbox = async () => (await stack.db.query<{ n: number }>('test.outbox', 'SELECT count(*)::int AS n FROM outbox'))[0]!.n;
    const [before, eventsBefore] = [await deadlocks(), await outbox()];
    const answers = await Promise.all(burst.map((w) => stack.call(w.admin, w.method, w.path, w.body, w.headers)));
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // statistics are flushed about once a second
    const lines = emitted.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const figures = {
      fivexx: answers.filter((a) => a.status >= 500).length,
      statuses: answers.reduce<Record<number, number>>((n, a) => ({ ...n, [a.status]: (n[a.status] ?? 0) + 1 }), {}),
      deadlocks: (await deadlocks()) - before,
      retried: lines.filter((l) => l.msg === 'database transaction retried after a lock conflict').length,
      databaseErrors: lines.filter((l) => l.database_errors_total).length,
    };
    process.stderr.write(`admin write burst: ${JSON.stringify(figures)}\n`);

    expect({ fivexx: figures.fivexx, databaseErrors: figures.databaseErrors }).toEqual({ fivexx: 0, databaseErrors: 0 });
    expect(await drift(stack.db)).toEqual([]);
    // A retried transaction ran again from the start: still one audit row and one event per success.
    const ok = answers.filter((a) => a.status < 300).map((a) => a.headers.get('x-request-id')!);
    const audited = await stack.db.query<{ request_id: string; n: number }>(
      'test.audit',
      "SELECT request_id, count(*)::int AS n FROM audit_log WHERE result = 'success' AND request_id = ANY ($1) GROUP BY request_id",
      [answers.map((a) => a.headers.get('x-request-id'))],
    );
    expect(audited.filter((r) => r.n !== 1)).toEqual([]);
    expect(audited.map((r) => r.request_id).sort()).toEqual([...ok].sort());
    expect((await outbox()) - eventsBefore).toBe(ok.length);
  });
});
