import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate } from '../../lib/adapters/postgres/migration-runner.js';
import { createLogger } from '../../lib/observability/logger.js';
import { testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EditedMigrationError, MIGRATIONS_DIR } from '../../lib/adapters/postgres/migration-runner.js';
import { runner } from 'node-pg-migrate';
import { inconsistencies } from '../support/claims-truth.js';

describe('migrations', () => {
  let url: string;
  let db: Database;
  const log = createLogger('error');

  beforeAll(async () => {
    url = await createTestDatabase({ migrated: false });
    db = testDatabase(url);
  });
  afterAll(() => db.end());

  it('apply every migration, in order, to an empty database', async () => {
    const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();
    const applied = await migrate({ databaseUrl: url, bootstrapAdminSubject: 'first-admin', log });
    expect(applied).toEqual(files);
    const tables = await db.query<{ table_name: string }>(
      'test.tables',
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['audit_log', 'clients', 'idempotency_keys', 'outbox', 'roles', 'subject_claims', 'subject_roles', 'subjects', 'tenants']),
    );
  });

  it('apply nothing the second time and keep the bootstrap admin mapped once', async () => {
    expect(await migrate({ databaseUrl: url, bootstrapAdminSubject: 'first-admin', log })).toEqual([]);
    const rows = await db.query('test.claims', "SELECT tenant_slug, claims::jsonb AS claims FROM subject_claims WHERE subject = 'first-admin'");
    expect(rows).toEqual([
      {
        tenant_slug: 'platform',
        claims: {
          tenant: { id: '00000000-0000-4000-8000-000000000001', slug: 'platform' },
          status: 'active',
          subject_type: 'user',
          roles: ['platform-admin'],
          permissions: ['iam:*'],
        },
      },
    ]);
  });

  it('reject a tenant slug outside [a-z0-9-]{2,63}', async () => {
    for (const slug of ['A', 'x', 'has space', 'a'.repeat(64)]) {
      await expect(db.query('test.bad_slug', 'INSERT INTO tenants (slug, name) VALUES ($1, $1)', [slug])).rejects.toMatchObject({ status: 409, sqlState: '23514' });
    }
  });

  it('refuse to map a role of another tenant', async () => {
    const [a] = await db.query<{ id: string }>('t', "INSERT INTO tenants (slug, name) VALUES ('tenant-a', 'A') RETURNING id");
    const [b] = await db.query<{ id: string }>('t', "INSERT INTO tenants (slug, name) VALUES ('tenant-b', 'B') RETURNING id");
    const [role] = await db.query<{ id: string }>('t', "INSERT INTO roles (tenant_id, name) VALUES ($1, 'admin') RETURNING id", [b!.id]);
    await db.query('t', "INSERT INTO subjects (tenant_id, subject) VALUES ($1, 'u-1')", [a!.id]);
    await expect(
      db.query('t', "INSERT INTO subject_roles (tenant_id, subject, role_id) VALUES ($1, 'u-1', $2)", [a!.id, role!.id]),
    ).rejects.toMatchObject({ status: 409, sqlState: '23503' });
  });

  it('refuse, before connecting, a checkout whose applied migration differs from checksums.txt', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'iam-edited-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      appendFileSync(path.join(dir, '1763800000001_roles.sql'), '-- an afterthought\n');
      const nowhere = 'postgres://postgres@127.0.0.1:1/nowhere'; // a connection attempt would fail otherwise
      const refusal = migrate({ databaseUrl: nowhere, log, dir });
      await expect(refusal).rejects.toBeInstanceOf(EditedMigrationError);
      await expect(refusal).rejects.toThrow('1763800000001_roles.sql; applied migrations are never edited');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the set-based read-model migration (1764300000000)', () => {
  const SET_BASED = '1764300000000_set-based-claims';
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const run = (url: string, dir: string, direction: 'up' | 'down', count?: number) =>
    runner({ databaseUrl: url, dir, direction, count, migrationsTable: 'pgmigrations', checkOrder: true, singleTransaction: true, logger: quiet, ignorePattern: '(?!.*\\.sql$).*' });
  const SEED = `
    INSERT INTO tenants (slug, name) SELECT 'm-' || n, 'M' FROM generate_series(1, 3) n;
    INSERT INTO roles (tenant_id, name, permissions) SELECT t.id, 'r' || r, ARRAY['p' || r || ':read', 'shared:read'] FROM tenants t, generate_series(1, 3) r WHERE t.slug LIKE 'm-%';
    INSERT INTO subjects (tenant_id, subject, subject_type) SELECT t.id, 'u' || i, 'user' FROM tenants t, generate_series(1, 40) i WHERE t.slug LIKE 'm-%' AND (t.slug = 'm-1' OR i % 7 = 0);
    INSERT INTO subjects (tenant_id, subject, subject_type) SELECT id, 'client-' || slug, 'client' FROM tenants WHERE slug LIKE 'm-%';
    INSERT INTO subject_roles SELECT s.tenant_id, s.subject, r.id FROM subjects s JOIN roles r ON r.tenant_id = s.tenant_id
      WHERE s.subject LIKE 'u%' AND r.name <> 'r' || (1 + substr(s.subject, 2)::int % 3);`;
  const WRITES = `
    UPDATE roles SET permissions = '{changed:write}' WHERE name = 'r1';
    DELETE FROM subjects WHERE subject = 'u14' AND tenant_id = (SELECT id FROM tenants WHERE slug = 'm-1');
    DELETE FROM roles WHERE name = 'r2' AND tenant_id = (SELECT id FROM tenants WHERE slug = 'm-2');
    UPDATE tenants SET status = 'suspended' WHERE slug = 'm-3';`;

  it('applies to a database with policy data, goes down and up again, and keeps the read model exact throughout', async () => {
    const url = await createTestDatabase({ migrated: false });
    const db = testDatabase(url);
    const dir = mkdtempSync(path.join(tmpdir(), 'iam-set-based-'));
    try {
      const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort();
      for (const f of files) if (f < SET_BASED) cpSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
      await run(url, dir, 'up');
      await db.query('test.seed', SEED);
      for (const f of files) cpSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
      expect((await run(url, dir, 'up')).map((m) => m.name)).toContain(SET_BASED);
      expect(await inconsistencies(db)).toEqual({ drift: [], homeless: [] });
      await db.query('test.writes', WRITES);
      expect(await inconsistencies(db)).toEqual({ drift: [], homeless: [] });

      const later = files.filter((f) => f.replace(/\.sql$/, '') >= SET_BASED).length;
      expect((await run(url, dir, 'down', later)).map((m) => m.name)).toContain(SET_BASED);
      const triggers = await db.query<{ tgname: string }>('test.triggers', "SELECT tgname FROM pg_trigger WHERE tgname = 'subject_claims_home'");
      expect(triggers).toHaveLength(1);
      await db.query('test.writes_down', "UPDATE roles SET permissions = '{after:down}' WHERE name = 'r3'; DELETE FROM subjects WHERE subject = 'u21'");
      expect(await inconsistencies(db)).toEqual({ drift: [], homeless: [] });

      await run(url, dir, 'up');
      await db.query('test.writes_up', "UPDATE roles SET permissions = '{up:again}' WHERE name = 'r3'; UPDATE tenants SET status = 'active'");
      expect(await inconsistencies(db)).toEqual({ drift: [], homeless: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.end();
    }
  });
});
