/**
 * The benchmark database: BENCH_DATABASE_URL, else `iam_bench` on the local server (created if
 * missing), migrated, and seeded once with the policy set of workload.ts in one transaction of
 * bulk INSERT … SELECT. The marker tenant is written in that transaction: if it exists, the
 * whole seed does. Each step is reported to `progress` as it ends (rows and seconds): the first
 * seed takes up to a minute.
 */
import pg from 'pg';
import { migrate } from '../lib/adapters/postgres/migration-runner.js';
import { createLogger } from '../lib/observability/logger.js';
import {
  PERMISSIONS, ROLE_NAMES, SECOND_TENANT_EVERY, SUBJECT_DIGITS, SUBJECT_PREFIX, SUBJECTS, TENANT_DIGITS, TENANT_PREFIX, TENANTS,
} from './workload.js';

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432';
const BENCH_DATABASE = 'iam_bench';
const MARKER = 'bench-seed-v1';

export interface SeedReport {
  databaseUrl: string;
  seeded: boolean;
  seconds: number;
  counts: { tenants: number; roles: number; subjects: number; subjectRoles: number };
}

/** One line per step, as it happens. */
export type Progress = (line: string) => void;

const since = (started: number) => `${((performance.now() - started) / 1000).toFixed(1)} s`;

export async function prepareDatabase(progress: Progress = () => undefined): Promise<SeedReport> {
  const started = performance.now();
  const databaseUrl = process.env.BENCH_DATABASE_URL || `${LOCAL_SERVER}/${BENCH_DATABASE}`;
  const dedicated = !process.env.BENCH_DATABASE_URL;
  const migrateIt = () => migrate({ databaseUrl, log: createLogger('warn', { component: 'bench' }) });
  if (dedicated) await adminQuery(async (admin) => {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DATABASE]);
    if (found.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
      progress(`created database ${BENCH_DATABASE}`);
    }
  });
  const migrating = performance.now();
  try {
    await migrateIt();
    progress(`migrations applied (${since(migrating)})`);
  } catch (error) {
    // The dedicated database is disposable: if its migration history no longer matches
    // migrations/ (a migration renamed or reordered), start it over rather than fail.
    if (!dedicated) throw error;
    progress(`${BENCH_DATABASE}: ${error instanceof Error ? error.message : String(error)}; recreating it`);
    await adminQuery(async (admin) => {
      await admin.query(`DROP DATABASE ${BENCH_DATABASE} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
    });
    await migrateIt();
    progress(`migrations applied (${since(migrating)})`);
  }

  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'iam-bench-seed' });
  await client.connect();
  try {
    const marked = await client.query('SELECT 1 FROM tenants WHERE slug = $1', [MARKER]);
    const seeded = marked.rowCount === 0;
    if (seeded) await seed(client, progress);
    else progress(`policy set already seeded (marker tenant ${MARKER}): reusing it`);
    const counts = await count(client);
    return { databaseUrl, seeded, seconds: (performance.now() - started) / 1000, counts };
  } finally {
    await client.end();
  }
}

async function adminQuery(work: (admin: pg.Client) => Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: `${LOCAL_SERVER}/postgres` });
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}

async function seed(client: pg.Client, progress: Progress): Promise<void> {
  const tenant = (n: string) => `format('${TENANT_PREFIX}%s', lpad((${n})::text, ${TENANT_DIGITS}, '0'))`;
  const subject = (i: string) => `format('${SUBJECT_PREFIX}%s', lpad((${i})::text, ${SUBJECT_DIGITS}, '0'))`;
  const number = (column: string, prefix: string) => `substr(${column}, ${prefix.length + 1})::int`;
  const steps: Array<[string, string, unknown[]]> = [
    // A partial or older seed goes first (ON DELETE CASCADE clears roles and mappings).
    ['delete an earlier seed', `DELETE FROM tenants WHERE slug LIKE 'bench-%'`, []],
    [
      'tenants',
      `INSERT INTO tenants (slug, name)
       SELECT ${tenant('n')}, 'Benchmark tenant ' || n FROM generate_series(1, $1::int) n`,
      [TENANTS],
    ],
    // 10 roles per tenant, each with 3–8 distinct permissions.
    [
      'roles',
      `INSERT INTO roles (tenant_id, name, description, permissions)
       SELECT t.id, ($1::text[])[r], 'Benchmark role',
              ARRAY(SELECT ($2::text[])[1 + (t.n + r * 3 + k) % cardinality($2::text[])]
                      FROM generate_series(0, 2 + (t.n + r) % 6) k ORDER BY k)
         FROM (SELECT id, ${number('slug', TENANT_PREFIX)} AS n FROM tenants WHERE slug LIKE '${TENANT_PREFIX}%') t
        CROSS JOIN generate_series(1, cardinality($1::text[])) r`,
      [ROLE_NAMES, PERMISSIONS],
    ],
    [
      'subject memberships',
      `INSERT INTO subjects (tenant_id, subject, subject_type)
       SELECT t.id, m.subject, 'user'
         FROM (SELECT ${subject('i')} AS subject, 1 + i % $2::int AS n FROM generate_series(1, $1::int) i
               UNION ALL
               SELECT ${subject('i')}, 1 + (i + $2::int / 2) % $2::int FROM generate_series(1, $1::int) i WHERE i % $3::int = 0) m
         JOIN tenants t ON t.slug = ${tenant('m.n')}`,
      [SUBJECTS, TENANTS, SECOND_TENANT_EVERY],
    ],
    // Subject i holds 1 + i % 3 roles of its tenant: role indexes i, i+3, i+6 (mod 10).
    [
      'role mappings (and the subject_claims read model)',
      `INSERT INTO subject_roles (tenant_id, subject, role_id)
       SELECT s.tenant_id, s.subject, r.id
         FROM (SELECT tenant_id, subject, ${number('subject', SUBJECT_PREFIX)} AS i
                 FROM subjects WHERE subject LIKE '${SUBJECT_PREFIX}%') s
        CROSS JOIN LATERAL generate_series(0, s.i % 3) k
         JOIN roles r ON r.tenant_id = s.tenant_id
                     AND r.name = ($1::text[])[1 + (s.i + k * 3) % cardinality($1::text[])]`,
      [ROLE_NAMES],
    ],
    ['seed marker', `INSERT INTO tenants (slug, name) VALUES ($1, 'Benchmark seed marker')`, [MARKER]],
  ];
  progress(`seeding ${TENANTS.toLocaleString('en-US')} tenants × ${ROLE_NAMES.length} roles, ${SUBJECTS.toLocaleString('en-US')} subjects (once; under a minute) …`);
  await client.query('BEGIN');
  try {
    for (const [label, text, values] of steps) {
      const step = performance.now();
      const result = await client.query(text, values);
      const rows = result.rowCount ?? 0;
      progress(`  ${label}: ${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'} (${since(step)})`);
    }
    const committing = performance.now();
    await client.query('COMMIT');
    progress(`  commit (${since(committing)})`);
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  // Fresh statistics and visibility map, as a long-lived database would have.
  const vacuum = performance.now();
  await client.query('VACUUM ANALYZE tenants, roles, subjects, subject_roles');
  progress(`  VACUUM ANALYZE (${since(vacuum)})`);
}

async function count(client: pg.Client): Promise<SeedReport['counts']> {
  const { rows } = await client.query<{ tenants: number; roles: number; subjects: number; subject_roles: number }>(
    `SELECT (SELECT count(*) FROM tenants WHERE slug LIKE '${TENANT_PREFIX}%')::int AS tenants,
            (SELECT count(*) FROM roles r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug LIKE '${TENANT_PREFIX}%')::int AS roles,
            (SELECT count(*) FROM subjects WHERE subject LIKE '${SUBJECT_PREFIX}%')::int AS subjects,
            (SELECT count(*) FROM subject_roles WHERE subject LIKE '${SUBJECT_PREFIX}%')::int AS subject_roles`,
  );
  const row = rows[0]!;
  return { tenants: row.tenants, roles: row.roles, subjects: row.subjects, subjectRoles: row.subject_roles };
}
