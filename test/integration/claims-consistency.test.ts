/**
 * The subject_claims read model is kept by triggers; concurrent policy writes must never leave
 * it different from what the policy tables say (a stale row would hand out a revoked role).
 * Bulk statements (many rows, cascades, subjects in two tenants) and random batches of them
 * must leave it exact too (migrations/1764300000000_set-based-claims.sql).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createDatabase, type Database, type Queryable } from '../../lib/adapters/postgres/database.js';
import { createLogger } from '../../lib/observability/logger.js';
import { type BulkWrite, runBulkWrite } from '../support/bulk-policy-writes.js';
import { drift, inconsistencies, READ_MODEL } from '../support/claims-truth.js';
import { addRole, addTenant, mapSubject } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

/** A fresh migrated database behind a pool of `poolMax` connections (writers run in parallel). */
const freshDatabase = async (poolMax: number): Promise<Database> =>
  createDatabase({
    url: await createTestDatabase(),
    poolMax,
    connectTimeoutMs: 5_000,
    idleTimeoutMs: 1_000,
    queryTimeoutMs: 20_000,
    namedStatements: false,
    log: createLogger('error'),
    metrics: { databaseError: () => undefined },
  });

describe('subject_claims under concurrent writes', () => {
  let db: Database;
  const tenants: string[] = [];
  const roles: Array<{ tenant: string; id: string }> = [];

  beforeAll(async () => {
    db = await freshDatabase(8);
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

const EXACT = { drift: [], homeless: [] };

describe('subject_claims under bulk statements', () => {
  let db: Database;
  const TENANTS = ['b-one', 'b-two'];
  const ROLES = ['r0', 'r1', 'r2', 'r3'];
  const SUBJECTS = Array.from({ length: 8 }, (_, i) => `s${i}`);
  const claimsOf = async (subject: string) =>
    db.query<{ tenant_slug: string; roles: string[]; permissions: string[]; is_home: boolean }>(
      'test.claims_of',
      `SELECT tenant_slug, claims::jsonb -> 'roles' AS roles, claims::jsonb -> 'permissions' AS permissions, is_home
         FROM subject_claims WHERE subject = $1 ORDER BY tenant_slug`,
      [subject],
    );
  const apply = async (...writes: BulkWrite[]) => {
    await db.transaction('test.bulk', async (tx) => {
      for (const w of writes) await runBulkWrite(tx, w);
    });
  };

  beforeAll(async () => {
    db = await freshDatabase(4);
    for (const slug of TENANTS) await addTenant(db, slug);
  });
  afterAll(() => db.end());

  it('follows each multi-row statement shape, cascades and two-tenant subjects included', async () => {
    await apply(
      { op: 'add-roles', tenant: 'b-one', roles: ROLES },
      { op: 'add-roles', tenant: 'b-two', roles: ROLES },
      { op: 'add-subjects', tenant: 'b-one', subjects: SUBJECTS, type: 'user' },
      { op: 'add-subjects', tenant: 'b-two', subjects: ['s0', 's1', 'x9'], type: 'user' },
      { op: 'map', tenant: 'b-one', subjects: SUBJECTS, roles: ['r0', 'r1'] },
      { op: 'map', tenant: 'b-two', subjects: ['s0', 's1'], roles: ['r2'] },
    );
    expect(await inconsistencies(db)).toEqual(EXACT);
    expect(await claimsOf('s0')).toEqual([
      { tenant_slug: 'b-one', roles: ['r0', 'r1'], permissions: ['r0:read', 'r1:read'], is_home: true },
      { tenant_slug: 'b-two', roles: ['r2'], permissions: ['r2:read'], is_home: false },
    ]);

    // One UPDATE of several roles' permissions reaches every holder, in both tenants' own roles only.
    await apply({ op: 'set-permissions', tenant: 'b-one', roles: ['r0', 'r1'], permissions: ['z:write', 'a:read'] });
    expect((await claimsOf('s3'))[0]).toMatchObject({ roles: ['r0', 'r1'], permissions: ['a:read', 'z:write'] });
    expect((await claimsOf('s0'))[1]).toMatchObject({ permissions: ['r2:read'] });

    await apply({ op: 'unmap', tenant: 'b-one', subjects: ['s2', 's3', 's4'], roles: ['r1'] });
    await apply({ op: 'set-type', tenant: 'b-one', subjects: ['s5', 's6'], type: 'client' });
    await apply({ op: 'set-status', tenants: TENANTS, status: 'suspended' });
    await apply({ op: 'set-status', tenants: ['b-two'], status: 'active' });
    expect(await inconsistencies(db)).toEqual(EXACT);

    // A role deleted: its mappings go by cascade, one statement per role.
    await apply({ op: 'delete-roles', tenant: 'b-one', roles: ['r0', 'r1'] });
    expect((await claimsOf('s3'))[0]).toMatchObject({ roles: [], permissions: [] });
    // The home tenant leaves: s0 and s1 move home to the tenant they are left in.
    await apply({ op: 'remove-subjects', tenant: 'b-one', subjects: ['s0', 's1', 's7'] });
    expect(await claimsOf('s0')).toEqual([{ tenant_slug: 'b-two', roles: ['r2'], permissions: ['r2:read'], is_home: true }]);
    // A tenant deleted: every subject, mapping, home and claims row of it goes by cascade.
    await apply({ op: 'recreate-tenant', tenant: 'b-two' });
    expect(await claimsOf('s0')).toEqual([]);
    expect(await claimsOf('x9')).toEqual([]);
    expect(await inconsistencies(db)).toEqual(EXACT);
  });

  it('equals a recompute after every random batch of mixed bulk statements', async () => {
    const tenant = fc.constantFrom(...TENANTS);
    const someOf = <T>(items: T[]) => fc.subarray(items, { minLength: 1 });
    // Users may be in both tenants; a client belongs to the one tenant that created it (its home,
    // always), so each tenant's clients have names of their own.
    const clients = (t: string) => [`${t}-k0`, `${t}-k1`, `${t}-k2`];
    const ofClients = fc.constantFrom(...TENANTS).chain((t) => fc.record({ tenant: fc.constant(t), subjects: someOf(clients(t)) }));
    const write: fc.Arbitrary<BulkWrite> = fc.oneof(
      { arbitrary: fc.record({ op: fc.constant('add-subjects' as const), tenant, subjects: someOf(SUBJECTS), type: fc.constant('user' as const) }), weight: 4 },
      { arbitrary: ofClients.map((c) => ({ op: 'add-subjects' as const, ...c, type: 'client' as const })), weight: 1 },
      { arbitrary: fc.record({ op: fc.constant('map' as const), tenant, subjects: someOf(SUBJECTS), roles: someOf(ROLES) }), weight: 5 },
      { arbitrary: fc.record({ op: fc.constant('unmap' as const), tenant, subjects: someOf(SUBJECTS), roles: someOf(ROLES) }), weight: 2 },
      { arbitrary: fc.record({ op: fc.constant('set-permissions' as const), tenant, roles: someOf(ROLES), permissions: fc.subarray(['a:read', 'b:write', 'c:read', 'iam:*']) }), weight: 3 },
      { arbitrary: fc.record({ op: fc.constant('describe-roles' as const), tenant, roles: someOf(ROLES) }), weight: 1 },
      { arbitrary: fc.record({ op: fc.constant('add-roles' as const), tenant, roles: someOf(ROLES) }), weight: 2 },
      { arbitrary: fc.record({ op: fc.constant('delete-roles' as const), tenant, roles: someOf(ROLES) }), weight: 1 },
      { arbitrary: fc.record({ op: fc.constant('remove-subjects' as const), tenant, subjects: someOf(SUBJECTS) }), weight: 2 },
      { arbitrary: fc.tuple(ofClients, fc.constantFrom('user' as const, 'client' as const)).map(([c, type]) => ({ op: 'set-type' as const, ...c, type })), weight: 1 },
      { arbitrary: fc.record({ op: fc.constant('set-status' as const), tenants: someOf(TENANTS), status: fc.constantFrom('active' as const, 'suspended' as const) }), weight: 1 },
      { arbitrary: fc.record({ op: fc.constant('recreate-tenant' as const), tenant }), weight: 1 },
    );
    let batches = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 6 }), async (writes) => {
        await apply(...writes);
        batches += 1;
        expect(await inconsistencies(db)).toEqual(EXACT);
      }),
      { numRuns: 60, seed: 15 },
    );
    expect(batches).toBe(60);
    // The batches did write: the read model is not just empty on both sides.
    expect((await db.query('test.rows', READ_MODEL)).length).toBeGreaterThan(1);
  });

  it('stays exact, without a deadlock, when two transactions write the same roles and subjects at once', async () => {
    await apply(
      { op: 'recreate-tenant', tenant: 'b-one' },
      { op: 'add-roles', tenant: 'b-one', roles: ROLES },
      { op: 'add-subjects', tenant: 'b-one', subjects: SUBJECTS, type: 'user' },
    );
    const deadlocks = async () =>
      Number((await db.query<{ n: string }>('test.deadlocks', 'SELECT deadlocks::text AS n FROM pg_stat_database WHERE datname = current_database()'))[0]!.n);
    const before = await deadlocks();
    let seed = 5;
    const random = (n: number) => (((seed = (seed * 1103515245 + 12345) % 2 ** 31) >>> 15) % n);
    // Writer A re-maps every subject to a random set of roles, one statement each way; writer B
    // changes those roles' permissions. Each takes its locks as the admin API does
    // (lib/admin/lock-order.ts): roles in id order, then A its subjects in key order; B's subjects
    // are locked by the trigger, sorted, after its roles.
    const lockRoles = (tx: Queryable, roles: string[], mode: 'SHARE' | 'NO KEY UPDATE') =>
      tx.query('test.lock_roles', `SELECT 1 FROM roles WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'b-one') AND name = ANY ($1)
                                    ORDER BY id FOR ${mode}`, [roles]);
    const mapper = async () => {
      for (let i = 0; i < 25; i += 1) {
        const roles = ROLES.filter(() => random(2) === 1);
        await db.transaction('test.map_roles', async (tx) => {
          await lockRoles(tx, ROLES, 'SHARE');
          await tx.query('test.lock_subjects', `SELECT 1 FROM subjects WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'b-one') AND subject = ANY ($1)
                                                 ORDER BY tenant_id, subject FOR UPDATE`, [SUBJECTS]);
          await runBulkWrite(tx, { op: 'unmap', tenant: 'b-one', subjects: SUBJECTS, roles: ROLES });
          await runBulkWrite(tx, { op: 'map', tenant: 'b-one', subjects: SUBJECTS, roles });
        });
      }
    };
    const editor = async () => {
      for (let i = 0; i < 25; i += 1) {
        const roles = ROLES.filter(() => random(2) === 1);
        await db.transaction('test.edit_roles', async (tx) => {
          await lockRoles(tx, roles, 'NO KEY UPDATE');
          await runBulkWrite(tx, { op: 'set-permissions', tenant: 'b-one', roles, permissions: [`p${i}:read`] });
        });
      }
    };
    await Promise.all([mapper(), editor(), mapper(), editor()]);
    expect(await inconsistencies(db)).toEqual(EXACT);
    expect((await deadlocks()) - before).toBe(0);
  });
});

// More than 64 keys per statement take the set-based path of
// migrations/1764500000000_batch-claims-refresh.sql; the tests above write a handful.
describe('subject_claims under big batches', () => {
  let db: Database;
  const USERS = Array.from({ length: 20_000 }, (_, i) => `g${i}`);
  const BOTH = USERS.slice(0, 6_000);
  const apply = (...writes: BulkWrite[]) =>
    db.transaction('test.big', async (tx) => {
      for (const w of writes) await runBulkWrite(tx, w);
    });
  const claimsOf = (subject: string) =>
    db.query<{ tenant_slug: string; roles: string[]; permissions: string[]; subject_type: string; is_home: boolean }>(
      'test.claims_of',
      `SELECT tenant_slug, claims::jsonb -> 'roles' AS roles, claims::jsonb -> 'permissions' AS permissions,
              claims::jsonb ->> 'subject_type' AS subject_type, is_home
         FROM subject_claims WHERE subject = $1 ORDER BY tenant_slug`,
      [subject],
    );

  beforeAll(async () => {
    db = await freshDatabase(2);
    for (const slug of ['g-one', 'g-two']) await addTenant(db, slug);
  });
  afterAll(() => db.end());

  it('equals a recompute after each statement of 20,000 memberships or mappings', async () => {
    // 26,000 memberships (20,000 in one statement) and 46,000 mappings (40,000 in one) in one transaction.
    await apply(
      { op: 'add-roles', tenant: 'g-one', roles: ['r0', 'r1', 'r2'] },
      { op: 'add-roles', tenant: 'g-two', roles: ['r0', 'r1'] },
      { op: 'add-subjects', tenant: 'g-one', subjects: USERS, type: 'user' },
      { op: 'add-subjects', tenant: 'g-two', subjects: BOTH, type: 'user' },
      { op: 'map', tenant: 'g-one', subjects: USERS, roles: ['r0', 'r1'] },
      { op: 'map', tenant: 'g-two', subjects: BOTH, roles: ['r1'] },
    );
    expect(await inconsistencies(db)).toEqual(EXACT);
    expect((await db.query('test.rows', READ_MODEL)).length).toBe(26_000 + 1);
    expect(await claimsOf('g1')).toEqual([
      { tenant_slug: 'g-one', roles: ['r0', 'r1'], permissions: ['r0:read', 'r1:read'], subject_type: 'user', is_home: true },
      { tenant_slug: 'g-two', roles: ['r1'], permissions: ['r1:read'], subject_type: 'user', is_home: false },
    ]);

    // A permission change reaching 20,000 holders, 10,000 mappings removed, then added back with
    // a third role in another transaction, 8,000 users made clients (members of g-one only).
    await apply({ op: 'set-permissions', tenant: 'g-one', roles: ['r0'], permissions: ['z:write', 'a:read'] });
    expect(await inconsistencies(db)).toEqual(EXACT);
    await apply({ op: 'unmap', tenant: 'g-one', subjects: USERS.slice(0, 10_000), roles: ['r0', 'r1'] });
    expect(await inconsistencies(db)).toEqual(EXACT);
    await apply(
      { op: 'map', tenant: 'g-one', subjects: USERS.slice(0, 10_000), roles: ['r1', 'r2'] },
      { op: 'set-type', tenant: 'g-one', subjects: USERS.slice(12_000), type: 'client' },
    );
    expect(await inconsistencies(db)).toEqual(EXACT);
    expect(await claimsOf('g19999')).toEqual([
      { tenant_slug: 'g-one', roles: ['r0', 'r1'], permissions: ['a:read', 'r1:read', 'z:write'], subject_type: 'client', is_home: true },
    ]);

    // 5,000 memberships removed, 3,000 of them in both tenants (those move home to g-two); then a suspension.
    await apply({ op: 'remove-subjects', tenant: 'g-one', subjects: USERS.slice(3_000, 8_000) });
    await apply({ op: 'set-status', tenants: ['g-two'], status: 'suspended' });
    expect(await inconsistencies(db)).toEqual(EXACT);
    expect(await claimsOf('g3000')).toEqual([
      { tenant_slug: 'g-two', roles: ['r1'], permissions: ['r1:read'], subject_type: 'user', is_home: true },
    ]);
    expect((await db.query('test.rows', READ_MODEL)).length).toBe(26_000 - 5_000 + 1);
  }, 600_000);
});
