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
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon, { type Options as AutocannonOptions } from 'autocannon';
import { prepareDatabase } from './seed.js';
import type { CaseResult } from './stats.js';
import type { CaseName, WorkerMessage, WorkerOptions } from './worker.js';
import { enrichBody, randomCall, subjectName } from './workload.js';

const CONCURRENCY = 32;
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const seconds = positive('BENCH_SECONDS', 10);
const pool = Math.round(positive('BENCH_POOL', 8));
const warmupSeconds = positive('BENCH_WARMUP_SECONDS', 2);
const namedStatements = process.env.BENCH_NAMED_STATEMENTS === 'true';
const cpuProfileDir = process.env.BENCH_CPU_PROF;

const apiKey = randomBytes(32).toString('base64url');

const started = performance.now();
/** A step, on stderr, with the time since the start: the whole run takes a couple of minutes. */
const progress = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const caseTime = `${warmupSeconds} s warm-up + ${seconds} s`;
const finished = (r: CaseResult) =>
  `p50 ${fixed(r.p50Ms)} ms, p99 ${fixed(r.p99Ms)} ms, ${Math.round(r.reqPerSec).toLocaleString('en-US')} req/s${r.errors > 0 ? `, ${r.errors} ERRORS` : ''}`;

type Row = CaseResult & { label: string };

function startWorker(name: CaseName, databaseUrl: string) {
  const options: WorkerOptions = { case: name, seconds, warmupSeconds, concurrency: CONCURRENCY };
  const child: ChildProcess = fork(WORKER, [JSON.stringify(options)], {
    // Handlers and EMF write a JSON line per request: discard stdout, keep stderr for crashes.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // With BENCH_CPU_PROF, V8 writes one profile per thread (tsx's loader has its own) named
    // CPU.<date>.<time>.<pid>.<tid>...; the orchestrator prints which pid ran which case.
    execArgv: [...process.execArgv, ...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [])],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      DATABASE_READ_URL: '',
      DB_POOL_MAX: String(pool),
      DB_NAMED_STATEMENTS: String(namedStatements),
      ENRICH_API_KEYS: apiKey,
      BOOTSTRAP_ADMIN_SUBJECT: '',
    },
  });
  if (cpuProfileDir) console.log(`case ${name}: worker pid ${child.pid}, CPU profile in ${cpuProfileDir}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // Messages in arrival order; a failure or an early exit rejects the next read.
  const queue: WorkerMessage[] = [];
  let wake: () => void = () => undefined;
  let gone: Error | undefined;
  child.on('message', (m) => (queue.push(m as WorkerMessage), wake()));
  child.once('exit', (code) => ((gone = new Error(`worker "${name}" exited (${code}) before reporting`)), wake()));
  const next = async <T extends WorkerMessage['type']>(type: T): Promise<Extract<WorkerMessage, { type: T }>> => {
    while (queue.length === 0 && !gone) await new Promise<void>((resolve) => (wake = resolve));
    const m = queue.shift();
    if (!m) throw gone!;
    if (m.type === 'failed') throw new Error(`worker "${name}" failed: ${m.error}`);
    if (m.type !== type) throw new Error(`worker "${name}" sent ${m.type}, expected ${type}`);
    return m as Extract<WorkerMessage, { type: T }>;
  };
  const stop = async () => {
    if (child.connected) child.send('stop');
    await exited;
  };
  return { child, next, stop };
}

async function inProcessCase(name: Exclude<CaseName, 'server'>, label: string, databaseUrl: string): Promise<Row & { sample: string }> {
  progress(`${label}: running (${caseTime}) …`);
  const worker = startWorker(name, databaseUrl);
  try {
    const row = { label, ...(await worker.next('result')).result };
    progress(`${label}: ${finished(row)}`);
    return row;
  } finally {
    await worker.stop();
  }
}

async function httpCase(label: string, databaseUrl: string): Promise<Row & { sample: string }> {
  progress(`${label}: running (${caseTime}) …`);
  const worker = startWorker('server', databaseUrl);
  try {
    const url = `http://127.0.0.1:${(await worker.next('listening')).port}`;
    const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
    const probe = await fetch(`${url}/system/enrich-token`, {
      method: 'POST', headers, body: JSON.stringify({ subject: subjectName(1) }),
    });
    const sample = `${probe.status} ${await probe.text()}`;
    const options: AutocannonOptions = {
      url,
      connections: CONCURRENCY,
      requests: [{
        method: 'POST',
        path: '/system/enrich-token',
        headers,
        setupRequest: (request) => ({ ...request, body: enrichBody(randomCall()) }),
      }],
    };
    await autocannon({ ...options, duration: warmupSeconds });
    worker.child.send('mark');
    await worker.next('marked');
    const result = await autocannon({ ...options, duration: seconds });
    worker.child.send('report');
    const { usage } = await worker.next('cpu');
    const errors = result.non2xx + result.errors + result.timeouts + (probe.status === 200 ? 0 : 1);
    const errorSamples = errors === 0 ? [] : [
      `status counts ${JSON.stringify(result.statusCodeStats)}, socket errors ${result.errors}, timeouts ${result.timeouts}`,
      ...(probe.status === 200 ? [] : [`probe: ${sample}`]),
    ];
    const done = result.requests.total;
    const row = {
      label, p50Ms: result.latency.p50, p99Ms: result.latency.p99, reqPerSec: result.requests.average,
      requests: result['2xx'], errors, errorSamples, sample,
      cpuMsPerRequest: { node: usage.nodeMs / done, database: usage.databaseMs === undefined ? undefined : usage.databaseMs / done },
    };
    progress(`${label}: ${finished(row)}`);
    return row;
  } finally {
    await worker.stop();
  }
}

const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const pad = (text: string, width: number, left = false) => (left ? text.padEnd(width) : text.padStart(width));

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
  console.log(`iam-service bench: ${CONCURRENCY} in flight, pool ${pool}, ${seconds} s per case after ${warmupSeconds} s warm-up, ` +
    `${namedStatements ? 'named' : 'unnamed'} statements, Node ${process.version}, ${cpus().length} cores, load ${load()}`);
  progress('preparing the benchmark database …');
  const db = await prepareDatabase(progress);
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(2);
  },
);
