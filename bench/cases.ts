/**
 * Runs measured cases, each in a worker process of its own (worker.ts): in-process cases report
 * their figures over IPC; the HTTP case is driven from here by autocannon. Shared by the default
 * run (bench.ts) and the sweep (sweep.ts).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon, { type Options as AutocannonOptions } from 'autocannon';
import type { AdminReadResult } from './admin-reads.js';
import type { CaseResult } from './stats.js';
import type { CaseName, WorkerMessage, WorkerOptions } from './worker.js';
import { enrichBody, firstCall, randomCall, type Workload } from './workload.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export type Row = CaseResult & { label: string; sample: string };

export interface CaseSettings {
  seconds: number;
  warmupSeconds: number;
  pool: number;
  namedStatements: boolean;
  /** BENCH_CPU_PROF: a directory for a V8 CPU profile of each worker. */
  cpuProfileDir: string | undefined;
  progress: (line: string) => void;
}

export const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
export const finished = (r: CaseResult) =>
  `p50 ${fixed(r.p50Ms)} ms, p99 ${fixed(r.p99Ms)} ms, ${Math.round(r.reqPerSec).toLocaleString('en-US')} req/s${r.errors > 0 ? `, ${r.errors} ERRORS` : ''}`;

export function caseRunner(settings: CaseSettings) {
  const { seconds, warmupSeconds, pool, namedStatements, cpuProfileDir, progress } = settings;
  const apiKey = randomBytes(32).toString('base64url');
  const caseTime = `${warmupSeconds} s warm-up + ${seconds} s`;

  function startWorker(name: CaseName, databaseUrl: string, workload: Workload, concurrency: number, caseSeconds = seconds) {
    const options: WorkerOptions = { case: name, seconds: caseSeconds, warmupSeconds, concurrency, workload };
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
    if (cpuProfileDir) progress(`case ${name} (${workload.name}, ${concurrency} in flight): worker pid ${child.pid}, CPU profile in ${cpuProfileDir}`);
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

  async function inProcessCase(name: Exclude<CaseName, 'server' | 'admin'>, label: string, databaseUrl: string, workload: Workload, concurrency: number): Promise<Row> {
    progress(`${label}: running (${caseTime}) …`);
    const worker = startWorker(name, databaseUrl, workload, concurrency);
    try {
      const row = { label, ...(await worker.next('result')).result };
      progress(`${label}: ${finished(row)}`);
      return row;
    } finally {
      await worker.stop();
    }
  }

  /** Each read for `readSeconds` after the warm-up, one request at a time. */
  async function adminCase(databaseUrl: string, workload: Workload, readSeconds: number): Promise<AdminReadResult[]> {
    progress(`admin reads (${workload.name}): walking to the deep pages, then ${warmupSeconds} s warm-up + ${readSeconds} s per read …`);
    const worker = startWorker('admin', databaseUrl, workload, 1, readSeconds);
    try {
      const { results } = await worker.next('admin');
      for (const r of results) progress(`  ${r.name}: ${finished(r)}`);
      return results;
    } finally {
      await worker.stop();
    }
  }

  async function httpCase(label: string, databaseUrl: string, workload: Workload, concurrency: number): Promise<Row> {
    progress(`${label}: running (${caseTime}) …`);
    const worker = startWorker('server', databaseUrl, workload, concurrency);
    try {
      const url = `http://127.0.0.1:${(await worker.next('listening')).port}`;
      const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
      const probe = await fetch(`${url}/system/enrich-token`, { method: 'POST', headers, body: enrichBody(firstCall(workload)) });
      const sample = `${probe.status} ${await probe.text()}`;
      const options: AutocannonOptions = {
        url,
        connections: concurrency,
        requests: [{
          method: 'POST',
          path: '/system/enrich-token',
          headers,
          setupRequest: (request) => ({ ...request, body: enrichBody(randomCall(workload)) }),
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

  return { inProcessCase, httpCase, adminCase };
}
