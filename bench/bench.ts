/**
 * `npm run bench`: what enrich-token costs against the floor, in one run, 32 requests in flight.
 *   (a) floor    one indexed SELECT of a mapping through the service's pool (unnamed statement)
 *   (b) handler  the enrich-token Lambda handler in-process, payload-2.0 events
 *   (c) http     the same over HTTP on the local front, driven by autocannon
 * Targets: throughput(b) ≥ 0.7 × throughput(a) and p99(b) ≤ 2 × p99(a). Exit status is non-zero
 * only on a real error (a non-200 response, a crashed worker), never on a missed target.
 * Results go to stdout; a line per step (seeding, each case starting and finishing) to stderr as
 * it happens, so `npm run bench > result.txt` keeps only the results.
 *
 * Environment: BENCH_SECONDS (10), BENCH_POOL (8), BENCH_WARMUP_SECONDS (2),
 * BENCH_DATABASE_URL (else iam_bench on 127.0.0.1:5432), BENCH_NAMED_STATEMENTS (false),
 * BENCH_CPU_PROF=<dir> to write a V8 CPU profile of each worker there.
 *
 * `npm run bench -- --sweep` runs the sweep instead (sweep.ts: data sizes, concurrency, bulk
 * writes, admin reads, results JSON and charts).
 */
import { cpus } from 'node:os';
import { caseRunner, fixed, type Row } from './cases.js';
import { load, pad, positive, progress } from './cli.js';
import { prepareDatabase } from './seed.js';
import { DEFAULT_WORKLOAD } from './workload.js';

const CONCURRENCY = 32;

function printTable(rows: Row[]): void {
  const cpu = (value: number | undefined) => (value === undefined ? 'n/a' : fixed(value, 3));
  const lines = [
    `${pad('case', 42, true)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('req/s', 8)}${pad('errors', 8)}   CPU ms/req: node  postgres`,
    ...rows.map((r) =>
      `${pad(r.label, 42, true)}${pad(fixed(r.p50Ms), 8)}${pad(fixed(r.p99Ms), 8)}${pad(Math.round(r.reqPerSec).toLocaleString('en-US'), 8)}` +
      `${pad(String(r.errors), 8)}${pad(cpu(r.cpuMsPerRequest?.node), 18)}${pad(cpu(r.cpuMsPerRequest?.database), 10)}`),
  ];
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  const seconds = positive('BENCH_SECONDS', 10);
  const pool = Math.round(positive('BENCH_POOL', 8));
  const warmupSeconds = positive('BENCH_WARMUP_SECONDS', 2);
  const namedStatements = process.env.BENCH_NAMED_STATEMENTS === 'true';
  const { inProcessCase: run, httpCase: http } = caseRunner({ seconds, warmupSeconds, pool, namedStatements, cpuProfileDir: process.env.BENCH_CPU_PROF, progress });
  const w = DEFAULT_WORKLOAD;
  const inProcessCase = (name: Parameters<typeof run>[0], label: string, databaseUrl: string) => run(name, label, databaseUrl, w, CONCURRENCY);
  const httpCase = (label: string, databaseUrl: string) => http(label, databaseUrl, w, CONCURRENCY);
  console.log(`iam-service bench: ${CONCURRENCY} in flight, pool ${pool}, ${seconds} s per case after ${warmupSeconds} s warm-up, ` +
    `${namedStatements ? 'named' : 'unnamed'} statements, Node ${process.version}, ${cpus().length} cores, load ${load()}`);
  progress('preparing the benchmark database …');
  const db = await prepareDatabase(w, progress);
  const c = db.counts;
  console.log(`database ${db.databaseUrl.replace(/\/\/[^@/]*@/, '//…@')}: ${db.seeded ? 'seeded' : 'already seeded'} in ${db.seconds.toFixed(1)} s — ` +
    `${c.tenants} tenants, ${c.roles} roles, ${c.subjects} subject memberships, ${c.subjectRoles} role mappings`);

  const a = await inProcessCase('floor', '(a) floor: indexed SELECT of a mapping', db.databaseUrl);
  const b = await inProcessCase('handler', '(b) enrich-token handler, in-process', db.databaseUrl);
  // The same core spoken to in each gateway's language (same lookup).
  const dialects = [
    await inProcessCase('hydra', '(b) … as Ory Hydra token hook', db.databaseUrl),
    await inProcessCase('oathkeeper', '(b) … as Ory Oathkeeper hydrator', db.databaseUrl),
    await inProcessCase('cognito', '(b) … as Cognito pre-token trigger', db.databaseUrl),
    await inProcessCase('forward-auth', '(b) … as forward-auth (JWT verified)', db.databaseUrl),
  ];
  const h = await httpCase('(c) enrich-token over HTTP (autocannon)', db.databaseUrl);
  progress('done');
  console.log('');
  printTable([a, b, ...dialects, h]);

  const throughput = b.reqPerSec / a.reqPerSec;
  const p99 = b.p99Ms / a.p99Ms;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log('');
  console.log(`b/a throughput ${fixed(throughput)}  (target ≥ 0.70)  ${verdict(throughput >= 0.7)}`);
  console.log(`b/a p99        ${fixed(p99)}  (target ≤ 2.00)  ${verdict(p99 <= 2)}`);
  for (const d of dialects) {
    const ratio = d.reqPerSec / a.reqPerSec;
    const p99Ratio = d.p99Ms / a.p99Ms;
    console.log(`${d.label.replace('(b) … as ', '')}: throughput ${fixed(ratio)} ${verdict(ratio >= 0.7)}, p99 ${fixed(p99Ratio)} ${verdict(p99Ratio <= 2)}`);
  }
  console.log(`c/a throughput ${fixed(h.reqPerSec / a.reqPerSec)}, p99 ${fixed(h.p99Ms / a.p99Ms)}  ` +
    `(information: autocannon shares the ${cpus().length} cores and reports whole milliseconds)`);
  console.log(`sample (b): ${b.sample.slice(0, 240)}`);
  console.log(`load average at the end: ${load()} (other work on the machine skews every figure)`);

  const failed = [a, b, ...dialects, h].filter((r) => r.errors > 0);
  for (const r of failed) console.error(`\n${r.label}: ${r.errors} errors\n  ${r.errorSamples.join('\n  ')}`);
  return failed.length > 0 ? 1 : 0;
}

const sweep = process.argv.includes('--sweep');
(sweep ? import('./sweep.js').then((m) => (process.argv.includes('--seed-only') ? m.seedOnly() : m.sweep())) : main()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
