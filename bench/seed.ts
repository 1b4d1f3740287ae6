/**
 * A benchmark database per size: BENCH_DATABASE_URL (the default size only), else `iam_bench`
 * (default size) or `iam_bench_<size>` on the local server, created if missing, migrated, and
 * seeded once with the policy set of workload.ts through the real tables (so the read-model
 * triggers run) in a few set-based INSERT … SELECT generate_series statements, memberships in
 * chunks of SEED_CHUNK subjects with a progress line each (rows, seconds, rows/s). The marker
 * tenant, written last, names the workload's definition: a database whose marker is missing
 * (a partial seed) or names another definition is dropped and seeded again.
 */
import pg from 'pg';
import { migrate } from '../lib/adapters/postgres/migration-runner.js';
import { createLogger } from '../lib/observability/logger.js';
import {
  BIG_SUBJECT_PREFIX, BIG_TENANT, DEFAULT_WORKLOAD, PERMISSIONS, padWidths, ROLE_NAMES, SECOND_TENANT_EVERY, SUBJECT_PREFIX, TENANT_PREFIX, type Workload,
} from './workload.js';

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432';
const MARKER = 'bench-seed';
/** Bump when the seed's SQL changes what it writes: every size is then seeded again. */
const SEED_VERSION = 2;
const SEED_CHUNK = 250_000;
/** The platform admin the admin-read case signs in as (the dev IdP's admin client's `sub`). */
export const BENCH_ADMIN = 'bench-admin';

export interface SeedReport {
  databaseUrl: string;
  seeded: boolean;
  seconds: number;
  counts: { tenants: number; roles: number; subjects: number; subjectRoles: number; auditRows: number };
}

/** One line per step, as it happens. */
export type Progress = (line: string) => void;

const since = (started: number) => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const n = (value: number) => value.toLocaleString('en-US');

export const databaseName = (w: Workload) => (w === DEFAULT_WORKLOAD ? 'iam_bench' : `iam_bench_${w.name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`);
const fingerprint = (w: Workload) =>
  `v${SEED_VERSION} subjects=${w.subjects} tenants=${w.tenants} big=${w.bigTenantUsers} audit=${w.auditRows}`;

export async function prepareDatabase(w: Workload, progress: Progress = () => undefined): Promise<SeedReport> {
  const started = performance.now();
  const name = databaseName(w);
  const external = w === DEFAULT_WORKLOAD ? process.env.BENCH_DATABASE_URL || undefined : undefined;
  const databaseUrl = external ?? `${LOCAL_SERVER}/${name}`;
  const log = createLogger('warn', { component: 'bench' });
  const migrateIt = () => migrate({ databaseUrl, bootstrapAdminSubject: BENCH_ADMIN, log });
  const recreate = async () => {
    await adminQuery(async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
    });
    progress(`created database ${name}`);
  };
  if (!external) {
    const exists = await adminQuery(async (admin) => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
    if (!exists) await recreate();
  }
  const migrating = performance.now();
  try {
    await migrateIt();
  } catch (error) {
    // A dedicated database is disposable: if its migration history no longer matches
    // migrations/ (a migration renamed or reordered), start it over rather than fail. Any
    // other failure (a migration's own error, an edited migration) stops the run: the largest
    // size takes long to seed again.
    if (external || !/preceding already run migration|not found/i.test(error instanceof Error ? error.message : String(error))) throw error;
    progress(`${name}: ${error instanceof Error ? error.message : String(error)}; recreating it`);
    await recreate();
    await migrateIt();
  }
  progress(`${name}: migrations applied (${since(migrating)})`);

  let client = await connect(databaseUrl);
  try {
    const marker = await client.query<{ name: string }>('SELECT name FROM tenants WHERE slug = $1', [MARKER]);
    const current = marker.rows[0]?.name === fingerprint(w);
    const earlier = !current && (await client.query(`SELECT 1 FROM tenants WHERE slug LIKE 'bench-%' LIMIT 1`)).rowCount !== 0;
    if (earlier && external) {
      // Not ours to drop: remove the earlier seed (ON DELETE CASCADE takes roles and mappings).
      progress(`${name}: removing an earlier or partial seed …`);
      await client.query(`DELETE FROM tenants WHERE slug LIKE 'bench-%'`);
    } else if (earlier) {
      progress(`${name}: seeded for another definition or partly (${marker.rows[0]?.name ?? 'no marker'}); seeding it again`);
      await client.end();
      await recreate();
      await migrateIt();
      client = await connect(databaseUrl);
    }
    if (!current) await seed(client, w, name, progress);
    else progress(`${name}: policy set already seeded (${fingerprint(w)}): reusing it`);
    const counts = await count(client);
    return { databaseUrl, seeded: !current, seconds: (performance.now() - started) / 1000, counts };
  } finally {
    await client.end();
  }
}

async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'iam-bench-seed' });
  await client.connect();
  return client;
}

async function adminQuery<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = await connect(`${LOCAL_SERVER}/postgres`);
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** The SQL text of the formulas in workload.ts. */
function formulas(w: Workload) {
  const pad = padWidths(w);
  return {
    tenant: (t: string) => `format('${TENANT_PREFIX}%s', lpad((${t})::text, ${pad.tenant}, '0'))`,
    subject: (i: string) => `format('${SUBJECT_PREFIX}%s', lpad((${i})::text, ${pad.subject}, '0'))`,
    big: (i: string) => `format('${BIG_SUBJECT_PREFIX}%s', lpad((${i})::text, ${pad.big}, '0'))`,
    /** Memberships (i, tenant number) of subjects $1..$2: the home tenant, every 33rd a second one. */
    members: `SELECT i, 1 + i % ${w.tenants} AS n FROM generate_series($1::int, $2::int) i
              UNION ALL
              SELECT i, 1 + (i + ${Math.floor(w.tenants / 2)}) % ${w.tenants} FROM generate_series($1::int, $2::int) i WHERE i % ${SECOND_TENANT_EVERY} = 0`,
    /** Subject i holds 1 + i % 3 roles of its tenant: role indexes i, i+3, i+6 (mod 10). */
    roleOf: (i: string, k: string) => `($3::text[])[1 + (${i} + ${k} * 3) % cardinality($3::text[])]`,
  };
}

type Step = [label: string, text: string, values: unknown[]];

async function seed(client: pg.Client, w: Workload, name: string, progress: Progress): Promise<void> {
  const f = formulas(w);
  const chunks = (total: number): Array<[number, number]> =>
    Array.from({ length: Math.ceil(total / SEED_CHUNK) }, (_, c) => [c * SEED_CHUNK + 1, Math.min(total, (c + 1) * SEED_CHUNK)]);
  const steps: Step[] = [
    [
      'tenants',
      `INSERT INTO tenants (slug, name)
       SELECT ${f.tenant('n')}, 'Benchmark tenant ' || n FROM generate_series(1, $1::int) n
       UNION ALL SELECT '${BIG_TENANT}', 'Benchmark big tenant' WHERE $2::int > 0`,
      [w.tenants, w.bigTenantUsers],
    ],
    // 10 roles per tenant, each with 3–8 distinct permissions (the big tenant is number 0).
    [
      'roles',
      `INSERT INTO roles (tenant_id, name, description, permissions)
       SELECT t.id, ($1::text[])[r], 'Benchmark role',
              ARRAY(SELECT ($2::text[])[1 + (t.n + r * 3 + k) % cardinality($2::text[])]
                      FROM generate_series(0, 2 + (t.n + r) % 6) k ORDER BY k)
         FROM (SELECT id, CASE WHEN slug = '${BIG_TENANT}' THEN 0 ELSE substr(slug, ${TENANT_PREFIX.length + 1})::int END AS n
                 FROM tenants WHERE slug LIKE '${TENANT_PREFIX}%' OR slug = '${BIG_TENANT}') t
        CROSS JOIN generate_series(1, cardinality($1::text[])) r`,
      [ROLE_NAMES, PERMISSIONS],
    ],
    ...chunks(w.subjects).flatMap(([lo, hi]): Step[] => [
      [
        `memberships of subjects ${n(lo)}–${n(hi)}`,
        `INSERT INTO subjects (tenant_id, subject, subject_type)
         SELECT t.id, ${f.subject('m.i')}, 'user' FROM (${f.members}) m JOIN tenants t ON t.slug = ${f.tenant('m.n')}`,
        [lo, hi],
      ],
      [
        `  their role mappings (and the subject_claims read model)`,
        `INSERT INTO subject_roles (tenant_id, subject, role_id)
         SELECT t.id, ${f.subject('m.i')}, r.id
           FROM (${f.members}) m
           JOIN tenants t ON t.slug = ${f.tenant('m.n')}
          CROSS JOIN LATERAL generate_series(0, m.i % 3) k
           JOIN roles r ON r.tenant_id = t.id AND r.name = ${f.roleOf('m.i', 'k')}`,
        [lo, hi, ROLE_NAMES],
      ],
    ]),
    ...chunks(w.bigTenantUsers).flatMap(([lo, hi]): Step[] => [
      [
        `${BIG_TENANT} memberships ${n(lo)}–${n(hi)}`,
        `INSERT INTO subjects (tenant_id, subject, subject_type)
         SELECT t.id, ${f.big('i')}, 'user' FROM generate_series($1::int, $2::int) i JOIN tenants t ON t.slug = $3`,
        [lo, hi, BIG_TENANT],
      ],
      [
        `  their role mappings`,
        `INSERT INTO subject_roles (tenant_id, subject, role_id)
         SELECT t.id, ${f.big('i')}, r.id
           FROM generate_series($1::int, $2::int) i
           JOIN tenants t ON t.slug = $4
          CROSS JOIN LATERAL generate_series(0, i % 3) k
           JOIN roles r ON r.tenant_id = t.id AND r.name = ${f.roleOf('i', 'k')}`,
        [lo, hi, ROLE_NAMES, BIG_TENANT],
      ],
    ]),
    // Audit rows: every other one in the big tenant (when there is one), the rest spread.
    [
      'audit rows',
      `INSERT INTO audit_log (occurred_at, actor, tenant_id, tenant_slug, action, target, result, request_id)
       SELECT now() - make_interval(secs => $1::int - g), 'bench-seed', t.id, t.slug, 'user.set_roles',
              'tenants/' || t.slug || '/users/bench', 'success', 'bench-' || g
         FROM generate_series(1, $1::int) g
         JOIN tenants t ON t.slug = CASE WHEN g % 2 = 0 AND $2::int > 0 THEN '${BIG_TENANT}' ELSE ${f.tenant(`1 + g % ${w.tenants}`)} END`,
      [w.auditRows, w.bigTenantUsers],
    ],
    ['seed marker', `INSERT INTO tenants (slug, name) VALUES ($1, $2)`, [MARKER, fingerprint(w)]],
  ];
  progress(`${name}: seeding ${n(w.tenants)} tenants × ${ROLE_NAMES.length} roles, ${n(w.subjects)} subjects` +
    `${w.bigTenantUsers > 0 ? `, a tenant of ${n(w.bigTenantUsers)}` : ''}${w.auditRows > 0 ? `, ${n(w.auditRows)} audit rows` : ''} (once) …`);
  // Each step commits on its own; the marker, last, says the whole seed is there.
  for (const [label, text, values] of steps) {
    const step = performance.now();
    const result = await client.query(text, values);
    const rows = result.rowCount ?? 0;
    const seconds = (performance.now() - step) / 1000;
    progress(`  ${label}: ${n(rows)} row${rows === 1 ? '' : 's'} (${seconds.toFixed(1)} s${rows > 1000 ? `, ${n(Math.round(rows / seconds))} rows/s` : ''})`);
  }
  // Fresh statistics and visibility map, as a long-lived database would have.
  const vacuum = performance.now();
  await client.query('VACUUM ANALYZE tenants, roles, subjects, subject_roles, subject_claims, subject_homes, audit_log');
  progress(`  VACUUM ANALYZE (${since(vacuum)})`);
}

async function count(client: pg.Client): Promise<SeedReport['counts']> {
  const { rows } = await client.query<{ tenants: number; roles: number; subjects: number; subject_roles: number; audit_rows: number }>(
    `SELECT (SELECT count(*) FROM tenants WHERE slug LIKE 'bench-%' AND slug <> '${MARKER}')::int AS tenants,
            (SELECT count(*) FROM roles r JOIN tenants t ON t.id = r.tenant_id WHERE t.slug LIKE 'bench-%')::int AS roles,
            (SELECT count(*) FROM subjects WHERE subject LIKE '${SUBJECT_PREFIX}%' OR subject LIKE '${BIG_SUBJECT_PREFIX}%')::int AS subjects,
            (SELECT count(*) FROM subject_roles WHERE subject LIKE '${SUBJECT_PREFIX}%' OR subject LIKE '${BIG_SUBJECT_PREFIX}%')::int AS subject_roles,
            (SELECT count(*) FROM audit_log WHERE actor = 'bench-seed')::int AS audit_rows`,
  );
  const row = rows[0]!;
  return { tenants: row.tenants, roles: row.roles, subjects: row.subjects, subjectRoles: row.subject_roles, auditRows: row.audit_rows };
}
