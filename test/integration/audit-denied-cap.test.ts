/**
 * Denied admin requests are counted, not listed: any token the IdP signs can be denied, against
 * any tenant, with a path of its choosing. The trail keeps one row per (actor, tenant, action)
 * and minute with a count, and the path cut to 256 characters; concurrent denials add up.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AdminStack, startAdminStack } from '../support/admin-stack.js';

interface DeniedRow extends Record<string, unknown> {
  actor: string;
  tenant_slug: string | null;
  action: string;
  target: string;
  count: number;
}

describe('denied-request audit rows', () => {
  let stack: AdminStack;

  const deniedRows = (actor: string) =>
    stack.db.query<DeniedRow>(
      'test.denied',
      "SELECT actor, tenant_slug, action, target, count FROM audit_log WHERE actor = $1 AND result = 'denied' ORDER BY tenant_slug NULLS FIRST, action, id",
      [actor],
    );

  /** Waits out the last seconds of a minute, so that a burst falls in one minute's bucket. */
  async function awayFromMinuteEdge(): Promise<void> {
    const [{ second }] = (await stack.db.query<{ second: number }>('test.second', 'SELECT extract(second FROM now())::float8 AS second')) as [{ second: number }];
    if (second > 50) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
  }

  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack?.stop());

  it('keeps one row with the right count for 40 concurrent denials of one caller, tenant and action', async () => {
    await awayFromMinuteEdge();
    const answers = await Promise.all(Array.from({ length: 40 }, () => stack.call('user', 'GET', '/tenants/globex/roles')));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 403));
    expect(await deniedRows('acme-user')).toEqual([{ actor: 'acme-user', tenant_slug: 'globex', action: 'listRoles', target: '/tenants/globex/roles', count: 40 }]);
  }, 60_000);

  it('keeps a row per tenant and per action, and one for denials that name no tenant', async () => {
    await awayFromMinuteEdge();
    const calls: [string, string][] = [
      ['GET', '/tenants/acme/roles'],
      ['GET', '/tenants/acme/roles'],
      ['GET', '/tenants/acme/users'],
      ['GET', '/tenants/glob%00ex/roles'],
      ['GET', '/tenants/GLOBEX/roles'],
      ['GET', '/audit'],
      ['GET', '/audit'],
    ];
    await Promise.all(calls.map(([method, path]) => stack.call('otherTenantAdmin', method, path)));
    const rows = (await deniedRows('globex-admin')).map(({ tenant_slug, action, count }) => [tenant_slug, action, count]);
    expect(rows).toEqual([
      // No slug: /audit, and both paths whose tenant segment is not a slug, share one bucket per action.
      [null, 'listAudit', 2],
      [null, 'listRoles', 2],
      ['acme', 'listRoles', 2],
      ['acme', 'listUsers', 1],
    ]);
  }, 60_000);

  it('stores at most 256 characters of the path a denied caller chose', async () => {
    const long = `/tenants/globex/users/${'x'.repeat(240)}${'😀'.repeat(600)}`;
    expect((await stack.call('user', 'DELETE', long)).status).toBe(403);
    const [row] = (await deniedRows('acme-user')).filter((r) => r.action === 'deleteUser');
    expect([...row!.target].length).toBe(256);
    expect(row!.target.startsWith('/tenants/globex/users/xxx')).toBe(true);
    expect(/\p{Cs}/u.test(row!.target)).toBe(false);
  });

  it('shows the count in the audit list', async () => {
    const answer = await stack.call('platformAdmin', 'GET', '/tenants/globex/audit?limit=100');
    expect(answer.status).toBe(200);
    const listRoles = (answer.json.items as Array<Record<string, unknown>>).filter((i) => i.actor === 'acme-user' && i.action === 'listRoles');
    expect(listRoles).toEqual([expect.objectContaining({ tenant: 'globex', result: 'denied', target: '/tenants/globex/roles', count: 40 })]);
  });
});
