/**
 * 1763900000002_subject-claims.sql was edited after it shipped. A database that ran its first
 * version (kept in test/support/subject-claims-first-version.sql) and then the rest of the
 * migrations must end where a database migrated from today's files ends: same columns, same
 * functions and triggers, same claims — before and after further policy writes.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import { compareNames, migrationFiles, MIGRATIONS_DIR } from '../../lib/adapters/postgres/migration-files.js';
import { migrate } from '../../lib/adapters/postgres/migration-runner.js';
import { createLogger } from '../../lib/observability/logger.js';
import { createTestDatabase, withAdmin } from '../support/test-database.js';

const REPAIR = '1764000000010_subject-claims-repair';
const EDITED = '1763900000002_subject-claims.sql';
const FIRST_VERSION = new URL('../support/subject-claims-first-version.sql', import.meta.url).pathname;
const log = createLogger('error');
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const SEED = `
  INSERT INTO tenants (id, slug, name) VALUES ('10000000-0000-4000-8000-000000000001', 'acme', 'Acme');
  INSERT INTO roles (id, tenant_id, name, permissions)
  VALUES ('10000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000001', 'viewer', '{reports:read,invoices:read}');
  INSERT INTO subjects (tenant_id, subject) VALUES ('10000000-0000-4000-8000-000000000001', 'alice'), ('10000000-0000-4000-8000-000000000001', 'bob');
  INSERT INTO subject_roles VALUES ('10000000-0000-4000-8000-000000000001', 'alice', '10000000-0000-4000-8000-000000000002');`;

/** Applies every migration before the repair from `dir`'s copies, without the checksum gate (runner, as it was). */
async function migrateBeforeRepair(url: string, firstVersion: boolean): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'iam-history-'));
  try {
    for (const { file, name } of migrationFiles()) {
      if (compareNames(name, REPAIR) >= 0) continue;
      copyFileSync(firstVersion && file === EDITED ? FIRST_VERSION : path.join(MIGRATIONS_DIR, file), path.join(dir, file));
    }
    await runner({ databaseUrl: url, dir, direction: 'up', migrationsTable: 'pgmigrations', checkOrder: true, singleTransaction: true, logger: quiet });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Applies the migrations up to and including the repair, through the checksum gate. */
async function migrateThroughRepair(url: string): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'iam-repair-'));
  try {
    for (const { file, name } of migrationFiles()) if (compareNames(name, REPAIR) <= 0) copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(dir, file));
    return await migrate({ databaseUrl: url, log, dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** subject_claims' columns, the iam_* functions, the triggers and the claims rows (one client: in turn). */
async function snapshot(client: pg.Client): Promise<Record<string, unknown>[][]> {
  const queries = [
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = 'subject_claims' ORDER BY column_name`,
    `SELECT proname, pg_get_functiondef(oid) AS def FROM pg_proc WHERE proname LIKE 'iam\\_%' ORDER BY proname`,
    `SELECT tgname, tgrelid::regclass::text AS tbl, tgfoid::regproc::text AS fn FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname`,
    `SELECT subject, tenant_slug, tenant_status, claims::jsonb AS claims FROM subject_claims ORDER BY tenant_slug, subject`,
  ];
  const results = [];
  for (const text of queries) results.push((await client.query(text)).rows as Record<string, unknown>[]);
  return results;
}

describe('the repair of the edited subject-claims migration', () => {
  let firstHistory: string;
  let currentHistory: string;

  beforeAll(async () => {
    [firstHistory, currentHistory] = await Promise.all([createTestDatabase({ migrated: false }), createTestDatabase({ migrated: false })]);
    await migrateBeforeRepair(firstHistory, true);
    await migrateBeforeRepair(currentHistory, false);
    for (const url of [firstHistory, currentHistory]) await withAdmin(url, (client) => client.query(SEED));
  });

  it('starts from two different schemas', async () => {
    const [first, current] = await Promise.all([withAdmin(firstHistory, snapshot), withAdmin(currentHistory, snapshot)]);
    expect(first[0]).toContainEqual({ column_name: 'subject_type', data_type: 'text', is_nullable: 'NO' });
    expect(first[3]).not.toEqual(current[3]);
  });

  it('brings a database that ran the first version to the current schema and claims, and changes nothing on the other', async () => {
    const before = await withAdmin(currentHistory, snapshot);
    for (const url of [firstHistory, currentHistory]) expect(await migrateThroughRepair(url)).toContain(REPAIR);
    const [first, current] = await Promise.all([withAdmin(firstHistory, snapshot), withAdmin(currentHistory, snapshot)]);
    expect(current).toEqual(before);
    expect(first).toEqual(current);
    // And the migrations after it (1764300000000_set-based-claims replaces these functions and
    // triggers) bring both to one schema and the same claims.
    for (const url of [firstHistory, currentHistory]) await migrate({ databaseUrl: url, log });
    const [firstHead, currentHead] = await Promise.all([withAdmin(firstHistory, snapshot), withAdmin(currentHistory, snapshot)]);
    expect(firstHead).toEqual(currentHead);
    expect(currentHead[3]).toEqual(current[3]);
    expect(current[3]).toContainEqual({
      subject: 'alice',
      tenant_slug: 'acme',
      tenant_status: 'active',
      claims: { tenant: { id: '10000000-0000-4000-8000-000000000001', slug: 'acme' }, status: 'active', subject_type: 'user', roles: ['viewer'], permissions: ['invoices:read', 'reports:read'] },
    });
  });

  it('keeps both current through later policy writes', async () => {
    const write = `UPDATE tenants SET status = 'suspended' WHERE slug = 'acme';
                   INSERT INTO subject_roles VALUES ('10000000-0000-4000-8000-000000000001', 'bob', '10000000-0000-4000-8000-000000000002');
                   UPDATE roles SET permissions = '{reports:read}' WHERE name = 'viewer';`;
    for (const url of [firstHistory, currentHistory]) await withAdmin(url, (client) => client.query(write));
    const [first, current] = await Promise.all([withAdmin(firstHistory, snapshot), withAdmin(currentHistory, snapshot)]);
    expect(first).toEqual(current);
    expect(current[3]!.map((row) => { const claims = row.claims as { status: string; permissions: string[] }; return [row.subject, claims.status, claims.permissions]; })).toEqual([
      ['alice', 'suspended', ['reports:read']],
      ['bob', 'suspended', ['reports:read']],
    ]);
  });
});

