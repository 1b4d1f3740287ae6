/**
 * Bulk policy writes through the read-model maintenance (issue #15): memberships per second
 * when subjects and their role mappings are written
 *   (a) by one INSERT … SELECT of `bulkRows` memberships (and one of their role mappings),
 *   (b) by `batches` transactions of `batchSize` memberships each (two statements per batch),
 *   (c) one membership per transaction (its subject row, then its 1–3 role mappings) for
 *       `singleSeconds` seconds,
 * and, for scale, the machine's floor for (a): the same statements with the read-model triggers
 * disabled (foreign keys still checked), and with every trigger and foreign key off
 * (session_replication_role = replica; it needs a superuser, else that floor is not measured).
 * Both run in a transaction that is rolled back.
 * A membership is one `subjects` row; each holds 1–3 roles, and every 33rd subject is also a
 * member of a second tenant, as in workload.ts. Every write fires the triggers that keep
 * subject_claims and subject_homes current, in the writer's transaction, so these figures are
 * what a provisioning burst or a bulk `apply` sees. The rows are written under tenants of
 * their own (slug prefix `bulkw-`) into whatever the database already holds, and deleted at
 * the end (that cascade is timed as well).
 *
 * CLI: `tsx bench/bulk-write.ts [database-url]` (else BENCH_DATABASE_URL, else iam_bench on the
 * local server, which must be migrated).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface BulkWriteOptions {
  bulkRows?: number;
  batches?: number;
  batchSize?: number;
  singleSeconds?: number;
  /** Tenants the memberships are spread over (100 per tenant by default, as in workload.ts). */
  tenants?: number;
  progress?: (line: string) => void;
}

export interface WriteRate {
  memberships: number;
  mappings: number;
  seconds: number;
  membershipsPerSecond: number;
}

export interface BulkWriteResult {
  insertSelect: WriteRate;
  batched: WriteRate;
  singleRow: WriteRate;
  /** DELETE of the bench tenants: every membership above goes by cascade. */
  cascadeDelete: WriteRate;
  /** (a) with the read-model triggers disabled: the tables and their foreign keys. */
  floorNoReadModel: WriteRate;
  /** (a) with every trigger and foreign key off; undefined where the role may not do that. */
  floorTablesOnly: WriteRate | undefined;
}

const ROLES = 10;
const SECOND_TENANT_EVERY = 33;

const rate = (memberships: number, mappings: number, seconds: number): WriteRate => ({
  memberships, mappings, seconds, membershipsPerSecond: memberships / seconds,
});

/**
 * Memberships i in [from, to) of this run as (tenant_id, subject, i): subject i is in tenant
 * i % tenants, every 33rd also in tenant (i + tenants/2) % tenants.
 */
const MEMBERSHIPS = `
  SELECT t.id AS tenant_id, m.subject, m.i
    FROM (SELECT $1 || '-u' || i AS subject, i, i % $4::int AS n FROM generate_series($2::int, $3::int - 1) i
          UNION ALL
          SELECT $1 || '-u' || i, i, (i + $4::int / 2) % $4::int FROM generate_series($2::int, $3::int - 1) i WHERE i % ${SECOND_TENANT_EVERY} = 0) m
    JOIN tenants t ON t.slug = $1 || '-t' || m.n`;

/** Subject i holds 1 + i % 3 of its tenant's roles (names r0..r9): r(i), r(i+3), r(i+6) mod 10. */
const MAPPINGS = `
  SELECT m.tenant_id, m.subject, r.id
    FROM (${MEMBERSHIPS}) m
   CROSS JOIN LATERAL generate_series(0, m.i % 3) k
    JOIN roles r ON r.tenant_id = m.tenant_id AND r.name = 'r' || (m.i + k * 3) % ${ROLES}`;

export async function measureBulkWrites(databaseUrl: string, options: BulkWriteOptions = {}): Promise<BulkWriteResult> {
  const { bulkRows = 100_000, batches = 100, batchSize = 1_000, singleSeconds = 2, progress = () => undefined } = options;
  const tenants = options.tenants ?? Math.max(1, Math.ceil((bulkRows + batches * batchSize) / 100));
  const prefix = `bulkw-${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'iam-bench-bulk-write' });
  await client.connect();
  /** `work` in a transaction, committed (or, for a floor, rolled back) once it has run. */
  const inTransaction = async <T>(work: () => Promise<T>, end: 'COMMIT' | 'ROLLBACK' = 'COMMIT'): Promise<T> => {
    await client.query('BEGIN');
    try {
      const result = await work();
      await client.query(end);
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  };
  /** Memberships [from, to) and their role mappings, in the caller's transaction. */
  const writeRange = async (from: number, to: number) => {
    const members = await client.query(`INSERT INTO subjects (tenant_id, subject) SELECT tenant_id, subject FROM (${MEMBERSHIPS}) m`, [prefix, from, to, tenants]);
    const mapped = await client.query(`INSERT INTO subject_roles (tenant_id, subject, role_id) ${MAPPINGS}`, [prefix, from, to, tenants]);
    return [members.rowCount ?? 0, mapped.rowCount ?? 0] as const;
  };
  const timed = async (work: () => Promise<readonly [number, number]>) => {
    const started = performance.now();
    const [memberships, mappings] = await work();
    return rate(memberships, mappings, (performance.now() - started) / 1000);
  };
  const report = (label: string, r: WriteRate) =>
    progress(`${label}: ${r.memberships.toLocaleString('en-US')} memberships (${r.mappings.toLocaleString('en-US')} role mappings) in ${r.seconds.toFixed(2)} s = ${Math.round(r.membershipsPerSecond).toLocaleString('en-US')} memberships/s`);
  try {
    await inTransaction(async () => {
      await client.query(`INSERT INTO tenants (slug, name) SELECT $1 || '-t' || n, 'Bulk-write bench' FROM generate_series(0, $2::int - 1) n`, [prefix, tenants]);
      await client.query(
        `INSERT INTO roles (tenant_id, name, permissions)
         SELECT t.id, 'r' || r, ARRAY['reports:read', 'role' || r || ':write'] FROM tenants t CROSS JOIN generate_series(0, ${ROLES - 1}) r
          WHERE t.slug LIKE $1 || '-t%'`,
        [prefix],
      );
    });
    progress(`${tenants.toLocaleString('en-US')} bench tenants (${prefix}-t*) × ${ROLES} roles created`);

    const insertSelect = await timed(() => inTransaction(() => writeRange(0, bulkRows)));
    report('(a) one INSERT … SELECT', insertSelect);

    const batched = await timed(async () => {
      let [memberships, mappings] = [0, 0];
      for (let b = 0; b < batches; b += 1) {
        const from = bulkRows + b * batchSize;
        const [m, r] = await inTransaction(() => writeRange(from, from + batchSize));
        [memberships, mappings] = [memberships + m, mappings + r];
      }
      return [memberships, mappings] as const;
    });
    report(`(b) ${batches} transactions of ${batchSize.toLocaleString('en-US')}`, batched);

    const singleRow = await timed(async () => {
      let [memberships, mappings] = [0, 0];
      const deadline = performance.now() + singleSeconds * 1000;
      for (let i = bulkRows + batches * batchSize; performance.now() < deadline; i += 1) {
        const subject = `${prefix}-u${i}`;
        const roleNames = Array.from({ length: 1 + (i % 3) }, (_, k) => `r${(i + k * 3) % ROLES}`);
        await inTransaction(async () => {
          const [tenant] = (await client.query<{ id: string }>(
            `INSERT INTO subjects (tenant_id, subject) SELECT id, $2 FROM tenants WHERE slug = $1 RETURNING tenant_id AS id`,
            [`${prefix}-t${i % tenants}`, subject],
          )).rows;
          const mapped = await client.query(
            'INSERT INTO subject_roles (tenant_id, subject, role_id) SELECT tenant_id, $2, id FROM roles WHERE tenant_id = $1 AND name = ANY ($3)',
            [tenant!.id, subject, roleNames],
          );
          [memberships, mappings] = [memberships + 1, mappings + (mapped.rowCount ?? 0)];
        });
      }
      return [memberships, mappings] as const;
    });
    report('(c) single-row transactions', singleRow);

    // The floors write memberships no run above used, and roll them back.
    const floorFrom = bulkRows + batches * batchSize + 10_000_000;
    const floor = (off: string) =>
      inTransaction(async () => {
        await client.query(off);
        return timed(() => writeRange(floorFrom, floorFrom + bulkRows));
      }, 'ROLLBACK');
    // USER leaves the foreign keys' own triggers on.
    const floorNoReadModel = await floor('ALTER TABLE subjects DISABLE TRIGGER USER; ALTER TABLE subject_roles DISABLE TRIGGER USER; ALTER TABLE subject_homes DISABLE TRIGGER USER');
    report('floor: (a) without the read-model triggers', floorNoReadModel);
    const floorTablesOnly = await floor('SET LOCAL session_replication_role = replica').catch((error: unknown) => {
      progress(`floor: (a) without triggers and foreign keys not measured: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
    if (floorTablesOnly) report('floor: (a) without triggers and foreign keys', floorTablesOnly);

    const [{ n, m }] = (await client.query<{ n: number; m: number }>(
      `SELECT (SELECT count(*) FROM subjects s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug LIKE $1 || '-t%')::int AS n,
              (SELECT count(*) FROM subject_roles s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug LIKE $1 || '-t%')::int AS m`,
      [prefix],
    )).rows as [{ n: number; m: number }];
    const cascadeDelete = await timed(async () => {
      await client.query(`DELETE FROM tenants WHERE slug LIKE $1 || '-t%'`, [prefix]);
      return [n, m] as const;
    });
    report('cascade DELETE of the bench tenants', cascadeDelete);
    return { insertSelect, batched, singleRow, cascadeDelete, floorNoReadModel, floorTablesOnly };
  } finally {
    await client.query(`DELETE FROM tenants WHERE slug LIKE $1 || '-t%'`, [prefix]).catch(() => undefined);
    await client.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/iam_bench';
  const result = await measureBulkWrites(url, { progress: (line) => process.stderr.write(`${line}\n`) });
  const rows = Object.entries(result).filter((entry): entry is [string, WriteRate] => entry[1] !== undefined).map(([name, r]) =>
    `${name.padEnd(18)} ${String(r.memberships).padStart(8)} memberships ${r.seconds.toFixed(2).padStart(7)} s ${Math.round(r.membershipsPerSecond).toLocaleString('en-US').padStart(9)} memberships/s`);
  process.stdout.write(`${rows.join('\n')}\n`);
}
