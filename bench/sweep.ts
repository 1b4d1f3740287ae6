/**
 * `npm run bench -- --sweep`: how the cost moves as the policy grows and as concurrency grows
 * (issue #15). For each data size (its own database, seeded once and reused, seed.ts): the
 * floor, the native call and each dialect at BENCH_SWEEP_BASE in flight, and at the middle size
 * at each of BENCH_SWEEP_CONCURRENCY; bulk-write throughput per size (bulk-write.ts); the admin
 * reads at the size that holds the big tenant (admin-reads.ts). Writes bench/results/<date>-<time>-sweep.json
 * and its SVG charts (charts.ts), prints a table and each target as MET or MISSED (report.ts).
 * Exit status is non-zero only on a real error (a failed request or case), never on a miss.
 *
 * Environment: BENCH_SWEEP_SIZES (100k,1m,3m: subjects; tenants 1 per 100), BENCH_SWEEP_CONCURRENCY
 * (1,8,32,128), BENCH_SWEEP_BASE (32), BENCH_SWEEP_ROUNDS (2: every case of a point runs once per
 * round, the rounds one after the other, and each case keeps its best round, the floor included,
 * so a burst of other work on the machine skews one round rather than a ratio), BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (2),
 * BENCH_ADMIN_SECONDS (3), BENCH_POOL (8), BENCH_BIG_TENANT_USERS (60000), BENCH_AUDIT_ROWS
 * (200000) on the size BENCH_ADMIN_SIZE (the largest), BENCH_BULK_MEMBERSHIPS (100000),
 * BENCH_BULK_BATCHES (100, of 1,000 memberships each), BENCH_SWEEP_OUT (bench/results), BENCH_CPU_PROF.
 * `--sweep --seed-only` prepares the databases and stops.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { measureBulkWrites } from './bulk-write.js';
import { caseRunner, type Row } from './cases.js';
import { renderCharts, RESULTS_DIR } from './charts.js';
import { load, positive, progress } from './cli.js';
import { type BulkWrite, CASE_LABELS, CASES, formatReport, type PointCase, type SizeInfo, type SweepCase, type SweepPoint, type SweepResults } from './report.js';
import { prepareDatabase } from './seed.js';
import { memberships, type Workload, workload } from './workload.js';
import type { CaseName } from './worker.js';

const WORKER_CASE: Record<SweepCase, Exclude<CaseName, 'server' | 'admin'>> = {
  floor: 'floor', native: 'handler', hydra: 'hydra', oathkeeper: 'oathkeeper', cognito: 'cognito', 'forward-auth': 'forward-auth',
};

const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);

/** `100k`, `1m`, `2.5m`, `300000`: a number of subjects. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text);
  if (!match) throw new Error(`BENCH_SWEEP_SIZES: "${text}" is not a size (e.g. 100k, 1m)`);
  return Math.round(Number(match[1]) * ({ k: 1e3, m: 1e6, '': 1 } as Record<string, number>)[match[2]!.toLowerCase()]!);
}

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

/**
 * The sizes, ascending. The size named BENCH_ADMIN_SIZE (default: the largest listed) also holds
 * the big tenant and the audit rows, and the admin reads run there. Name it explicitly when a run
 * lists fewer sizes, or a size seeded without them would be seeded again.
 */
function plannedSizes(): Workload[] {
  const bigTenantUsers = Math.round(positive('BENCH_BIG_TENANT_USERS', 60_000));
  const auditRows = Math.round(positive('BENCH_AUDIT_ROWS', 200_000));
  const sizes = list('BENCH_SWEEP_SIZES', '100k,1m,3m')
    .map((name) => ({ name: name.toLowerCase(), subjects: parseSize(name) }))
    .sort((a, b) => a.subjects - b.subjects);
  const adminSize = (process.env.BENCH_ADMIN_SIZE ?? sizes.at(-1)?.name ?? '').toLowerCase();
  if (!sizes.some((s) => s.name === adminSize)) throw new Error(`BENCH_ADMIN_SIZE: "${adminSize}" is not one of BENCH_SWEEP_SIZES`);
  return sizes.map(({ name, subjects }) => workload(name, subjects, name === adminSize ? { bigTenantUsers, auditRows } : {}));
}

/** `--seed-only`: prepares each size's database and stops (the first seed of the largest takes long). */
export async function seedOnly(): Promise<number> {
  for (const w of plannedSizes()) {
    const db = await prepareDatabase(w, progress);
    console.log(`${w.name}: ${db.seeded ? 'seeded' : 'already seeded'} in ${db.seconds.toFixed(1)} s, ${db.counts.subjects.toLocaleString('en-US')} memberships`);
  }
  return 0;
}

export async function sweep(): Promise<number> {
  const seconds = positive('BENCH_SECONDS', 5);
  const warmupSeconds = positive('BENCH_WARMUP_SECONDS', 2);
  const adminSeconds = positive('BENCH_ADMIN_SECONDS', 3);
  const pool = Math.round(positive('BENCH_POOL', 8));
  const base = Math.round(positive('BENCH_SWEEP_BASE', 32));
  const concurrencies = list('BENCH_SWEEP_CONCURRENCY', '1,8,32,128').map(Number);
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('BENCH_SWEEP_CONCURRENCY must list whole numbers ≥ 1');
  const rounds = Math.round(positive('BENCH_SWEEP_ROUNDS', 2));
  const bulkRows = Math.round(positive('BENCH_BULK_MEMBERSHIPS', 100_000));
  const bulkBatches = Math.round(positive('BENCH_BULK_BATCHES', 100));
  const outDir = process.env.BENCH_SWEEP_OUT ?? RESULTS_DIR;
  const sizes = plannedSizes();
  const middle = sizes[Math.floor(sizes.length / 2)]!;

  const startLoad = loadavg();
  const date = new Date();
  const runner = caseRunner({ seconds, warmupSeconds, pool, namedStatements: false, cpuProfileDir: process.env.BENCH_CPU_PROF, progress });
  const plan = sizes.map((w) => `${w.name} at ${w === middle ? concurrencies.join('/') : base}`).join(', ');
  console.log(`iam-service sweep: sizes ${plan} in flight; ${CASES.length} cases per point, best of ${rounds} round${rounds > 1 ? 's' : ''}, ${warmupSeconds} s warm-up + ${seconds} s each, ` +
    `pool ${pool}, Node ${process.version}, ${cpus().length} cores, load ${load()}`);

  const errors: string[] = [];
  const sizeInfo: SizeInfo[] = [];
  const points: SweepPoint[] = [];
  const bulk: BulkWrite[] = [];
  let admin: SweepResults['admin'];
  let postgres = 'unknown';

  for (const w of sizes) {
    progress(`— ${w.name}: preparing its database …`);
    const db = await prepareDatabase(w, progress);
    sizeInfo.push({
      name: w.name, subjects: w.subjects, tenants: w.tenants, memberships: db.counts.subjects, roleMappings: db.counts.subjectRoles,
      bigTenantUsers: w.bigTenantUsers, auditRows: db.counts.auditRows, seeded: db.seeded, seedSeconds: db.seconds,
    });
    if (db.counts.subjects !== memberships(w)) errors.push(`${w.name}: ${db.counts.subjects} memberships seeded, ${memberships(w)} expected`);
    postgres = await serverVersion(db.databaseUrl);

    for (const concurrency of w === middle ? concurrencies : [base]) {
      progress(`— ${w.name} (${db.counts.subjects.toLocaleString('en-US')} memberships), ${concurrency} in flight`);
      // Each case's best round (highest throughput) and every round's throughput.
      const best = new Map<SweepCase, Row>();
      const throughputs = new Map<SweepCase, number[]>();
      for (let round = 1; round <= rounds; round += 1) {
        for (const name of CASES) {
          const label = `${w.name} @${concurrency} ${CASE_LABELS[name]}${rounds > 1 ? ` (round ${round}/${rounds})` : ''}`;
          try {
            const row = await runner.inProcessCase(WORKER_CASE[name], label, db.databaseUrl, w, concurrency);
            if (row.errors > 0) errors.push(`${row.label}: ${row.errors} errors: ${row.errorSamples.join(' | ')}`);
            throughputs.set(name, [...(throughputs.get(name) ?? []), row.reqPerSec]);
            const kept = best.get(name);
            if (!kept || row.reqPerSec > kept.reqPerSec) best.set(name, row);
          } catch (error) {
            errors.push(`${w.name} @${concurrency} ${name}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }
      const rows = CASES.flatMap((name) => (best.has(name) ? [{ name, row: best.get(name)! }] : []));
      const floor = best.get('floor');
      points.push({
        size: w.name,
        memberships: db.counts.subjects,
        concurrency,
        cases: rows.map(({ name, row }): PointCase => ({
          case: name, p50Ms: row.p50Ms, p99Ms: row.p99Ms, reqPerSec: row.reqPerSec, requests: row.requests, errors: row.errors,
          roundsReqPerSec: throughputs.get(name),
          cpuMsPerRequest: row.cpuMsPerRequest,
          throughputRatio: floor ? row.reqPerSec / floor.reqPerSec : Number.NaN,
          p99Ratio: floor ? row.p99Ms / floor.p99Ms : Number.NaN,
        })),
      });
    }

    if (w.bigTenantUsers > 0) {
      try {
        const reads = await runner.adminCase(db.databaseUrl, w, adminSeconds);
        for (const r of reads) if (r.errors > 0) errors.push(`admin ${r.name}: ${r.errors} errors: ${r.errorSamples.join(' | ')}`);
        admin = { size: w.name, reads: reads.map(({ errorSamples: _, ...r }) => r) };
      } catch (error) {
        errors.push(`admin reads at ${w.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }

    try {
      progress(`— ${w.name}: bulk writes (${bulkRows.toLocaleString('en-US')} memberships in one statement, then ${bulkBatches} transactions of 1,000) …`);
      const result = await measureBulkWrites(db.databaseUrl, { bulkRows, batches: bulkBatches, batchSize: 1_000, progress: (line) => progress(`  ${line}`) });
      const cleanupSeconds = result.cascadeDelete.seconds;
      const entry = (mode: BulkWrite['mode'], r: typeof result.insertSelect, batchSize?: number): BulkWrite => ({
        size: w.name, mode, memberships: r.memberships, roleMappings: r.mappings, seconds: r.seconds, membershipsPerSec: r.membershipsPerSecond, cleanupSeconds,
        ...(batchSize ? { batchSize } : {}),
      });
      bulk.push(entry('one statement', result.insertSelect), entry('batches', result.batched, 1_000), entry('one per transaction', result.singleRow));
      bulk.push(entry('floor: no read model', result.floorNoReadModel));
      if (result.floorTablesOnly) bulk.push(entry('floor: tables only', result.floorTablesOnly));
      await vacuum(db.databaseUrl);
    } catch (error) {
      errors.push(`bulk writes at ${w.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const results: SweepResults = {
    version: 1,
    date: date.toISOString(),
    machine: {
      cores: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, postgres,
      loadAverage: { start: startLoad, end: loadavg() },
    },
    git: { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain').length > 0 },
    settings: { seconds, warmupSeconds, adminSeconds, pool, baseConcurrency: base, bulkMemberships: bulkRows, bulkBatches, rounds },
    sizes: sizeInfo,
    points,
    bulk,
    admin,
    errors,
  };
  mkdirSync(outDir, { recursive: true });
  const stamp = date.toISOString().slice(0, 16).replace('T', '-').replace(':', '');
  const file = join(outDir, `${stamp}-sweep.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const charts = await renderCharts(results, file);

  console.log(formatReport(results));
  console.log(`\nload average: ${startLoad.map((v) => v.toFixed(2)).join(' ')} at the start, ${load()} at the end (other work on the machine skews every figure)`);
  console.log(`results: ${relative(process.cwd(), file)}; charts: ${charts.map((c) => relative(process.cwd(), c)).join(', ')}`);
  for (const e of errors) console.error(`ERROR ${e}`);
  return errors.length > 0 ? 1 : 0;
}

async function serverVersion(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  } finally {
    await client.end();
  }
}

/** The bulk writes leave dead rows behind; the next run (and the next size) should not read through them. */
async function vacuum(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('VACUUM ANALYZE tenants, roles, subjects, subject_roles, subject_claims, subject_homes');
  } finally {
    await client.end();
  }
}
