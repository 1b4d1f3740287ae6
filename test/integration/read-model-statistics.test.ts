/**
 * The read model's triggers when the statistics say the policy tables are empty while their pages
 * are not (an ANALYZE after a purge, before VACUUM gave the pages back: RUNBOOK, "Policy writes
 * crawl after a purge"). Every index then looks free to the planner; the triggers' lookup of a
 * subject's mappings must still go by the primary key, not scan who-has's (role_id, subject)
 * index per key (migrations/1764600000000_subject-roles-by-role-bytewise.sql), and a bulk write
 * must leave the read model exact.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { inconsistencies } from '../support/claims-truth.js';
import { testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

/** The plan nodes of an EXPLAIN (FORMAT JSON), flattened. */
type PlanNode = { 'Node Type': string; 'Index Name'?: string; 'Index Cond'?: string; Plans?: PlanNode[] };
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

describe('read-model triggers under statistics that say the tables are empty', () => {
  let db: Database;
  const MEMBERS = `SELECT t.id AS tenant_id, 'st-u' || i AS subject, i FROM generate_series($1::int, $2::int - 1) i JOIN tenants t ON t.slug = 'st-t' || (i % 100)`;
  const write = (from: number, to: number) =>
    db.transaction('t.bulk', async (tx) => {
      await tx.query('t.subjects', `INSERT INTO subjects (tenant_id, subject) SELECT tenant_id, subject FROM (${MEMBERS}) m`, [from, to]);
      await tx.query(
        't.mappings',
        `INSERT INTO subject_roles (tenant_id, subject, role_id)
         SELECT m.tenant_id, m.subject, r.id FROM (${MEMBERS}) m JOIN roles r ON r.tenant_id = m.tenant_id AND r.name IN ('r' || m.i % 5, 'r' || (m.i % 5 + 5))`,
        [from, to],
      );
    });

  // Statistics of the policy tables as they are now, and nothing else (no VACUUM).
  const analyze = async () => {
    for (const table of ['subjects', 'subject_roles', 'subject_homes', 'subject_claims']) await db.query('t.analyze', `ANALYZE ${table}`);
  };

  beforeAll(async () => {
    db = testDatabase(await createTestDatabase());
    await db.query('t.tenants', `INSERT INTO tenants (slug, name) SELECT 'st-t' || n, 'statistics' FROM generate_series(0, 99) n`);
    await db.query(
      't.roles',
      `INSERT INTO roles (tenant_id, name, permissions) SELECT t.id, 'r' || r, ARRAY['reports:read', 'role' || r || ':write']
         FROM tenants t CROSS JOIN generate_series(0, 9) r WHERE t.slug LIKE 'st-t%'`,
    );
    // Pages full of rows, then none left in them, then statistics taken before any VACUUM.
    await write(0, 20_000);
    await db.query('t.purge', `DELETE FROM subjects WHERE subject LIKE 'st-u%'`);
    await analyze();
  }, 120_000);
  afterAll(() => db.end());

  it('reaches the state: (almost) no rows counted, pages still there', async () => {
    const rows = await db.query<{ relname: string; relpages: number; reltuples: number }>(
      't.stats',
      `SELECT relname, relpages, reltuples FROM pg_class WHERE relname IN ('subject_roles', 'subject_homes', 'subject_claims')`,
    );
    expect(rows).toHaveLength(3);
    // The test database's bootstrap admin is the one row left.
    expect(rows.filter((row) => !(row.reltuples <= 1 && row.relpages > 0))).toEqual([]);
  });

  it("looks a subject's mappings up by the primary key, with both of its columns", async () => {
    // As the triggers ask it: the tenant is a parameter, not a constant the planner could see.
    const [{ 'QUERY PLAN': [plan] }] = (await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      't.explain',
      `EXPLAIN (FORMAT JSON) SELECT role_id FROM subject_roles WHERE tenant_id = (SELECT id FROM tenants LIMIT 1) AND subject = 'st-u1'`,
    )) as [{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }];
    const scans = nodes(plan!.Plan).filter((node) => node['Index Name'] !== undefined && node['Index Cond']?.includes('subject'));
    expect(scans.map((node) => node['Index Name'])).toEqual(['subject_roles_pkey']);
    expect(scans[0]!['Index Cond']).toMatch(/tenant_id = .*subject = /);
  });

  it('keeps the read model exact through a bulk write in that state', async () => {
    await write(100_000, 103_000);
    const [{ n }] = (await db.query<{ n: number }>('t.count', `SELECT count(*)::int AS n FROM subject_claims WHERE subject LIKE 'st-u%'`)) as [{ n: number }];
    expect(n).toBe(3_000);
    // The recompute it is compared with is a join of its own: fresh statistics for that, first.
    await analyze();
    expect(await inconsistencies(db)).toEqual({ drift: [], homeless: [] });
  }, 120_000);
});
