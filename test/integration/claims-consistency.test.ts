/**
 * The subject_claims read model is kept by triggers; concurrent policy writes must never leave
 * it different from what the policy tables say (a stale row would hand out a revoked role).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, type Database } from '../../lib/adapters/postgres/database.js';
import { createLogger } from '../../lib/observability/logger.js';
import { drift, READ_MODEL } from '../support/claims-truth.js';
import { addRole, addTenant, mapSubject } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

describe('subject_claims under concurrent writes', () => {
  let db: Database;
  const tenants: string[] = [];
  const roles: Array<{ tenant: string; id: string }> = [];

  beforeAll(async () => {
    db = createDatabase({
      url: await createTestDatabase(),
      poolMax: 8,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 1_000,
      queryTimeoutMs: 20_000,
      namedStatements: false,
      log: createLogger('error'),
      metrics: { databaseError: () => undefined },
    });
    for (const slug of ['c-one', 'c-two']) {
      const tenant = await addTenant(db, slug);
      tenants.push(tenant);
      for (let r = 0; r < 4; r += 1) roles.push({ tenant, id: await addRole(db, tenant, `r${r}`, [`p${r}:read`]) });
      for (let u = 0; u < 6; u += 1) await mapSubject(db, tenant, `u${u}`, []);
    }
  });
  afterAll(() => db.end());

  it('stays equal to the policy tables it is computed from', async () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const writes = Array.from({ length: 60 }, (_, i) => async () => {
      const tenant = tenants[random(tenants.length)]!;
      const own = roles.filter((r) => r.tenant === tenant);
      await db.transaction('test.concurrent', async (tx) => {
        switch (i % 3) {
          case 0: {
            const subject = `u${random(6)}`;
            await tx.query('t', 'UPDATE subjects SET version = version + 1 WHERE tenant_id = $1 AND subject = $2', [tenant, subject]);
            await tx.query('t', 'DELETE FROM subject_roles WHERE tenant_id = $1 AND subject = $2', [tenant, subject]);
            const picked = own.filter(() => random(2) === 1).map((r) => r.id);
            if (picked.length) {
              await tx.query('t', 'INSERT INTO subject_roles SELECT $1, $2, unnest($3::uuid[])', [tenant, subject, picked]);
            }
            break;
          }
          case 1:
            await tx.query('t', 'UPDATE roles SET permissions = $2 WHERE id = $1', [own[random(own.length)]!.id, [`p${random(9)}:write`, `p${random(9)}:read`]]);
            break;
          default:
            await tx.query('t', "UPDATE tenants SET status = CASE status WHEN 'active' THEN 'suspended' ELSE 'active' END WHERE id = $1", [tenant]);
        }
      });
    });
    await Promise.all(writes.map((write) => write()));
    expect(await drift(db)).toEqual([]);
    // 12 subjects here plus the bootstrap admin of the template database.
    expect((await db.query('test.count', READ_MODEL)).length).toBe(13);
  });
});
