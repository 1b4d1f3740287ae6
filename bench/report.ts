/**
 * The sweep's results file (bench/results/<date>-sweep.json) and what is read from it: the
 * targets of issue #15 as MET or MISSED with their figures, and the printed table. Pure: the
 * sweep writes the file, charts.ts and the unit tests read it back through these functions.
 */
import type { AdminReadResult } from './admin-reads.js';
import type { CaseResult } from './stats.js';

/** The in-process cases of every point: the floor, then the native call and each dialect. */
export const CASES = ['floor', 'native', 'hydra', 'oathkeeper', 'cognito', 'forward-auth'] as const;
export type SweepCase = (typeof CASES)[number];
export const CASE_LABELS: Record<SweepCase, string> = {
  floor: 'floor (indexed SELECT)',
  native: 'enrich-token (native)',
  hydra: 'Ory Hydra token hook',
  oathkeeper: 'Ory Oathkeeper hydrator',
  cognito: 'Cognito pre-token trigger',
  'forward-auth': 'forward-auth (JWT)',
};

export interface PointCase extends Omit<CaseResult, 'errorSamples'> {
  case: SweepCase;
  /** Throughput of each round (BENCH_SWEEP_ROUNDS): the case's figures are those of its best round. */
  roundsReqPerSec?: number[];
  /** Throughput and p99 against the floor's at the same point (the floor: 1). */
  throughputRatio: number;
  p99Ratio: number;
}

export interface SweepPoint {
  size: string;
  memberships: number;
  concurrency: number;
  cases: PointCase[];
}

export interface SizeInfo {
  name: string;
  subjects: number;
  tenants: number;
  memberships: number;
  roleMappings: number;
  bigTenantUsers: number;
  auditRows: number;
  /** Seeded by this run (false: reused), and how long preparing it took. */
  seeded: boolean;
  seedSeconds: number;
}

/**
 * The target is for bulk writes: one statement and batches. `one per transaction` is for
 * information; the two floors are `one statement` again with the read-model triggers off (foreign
 * keys checked), and with every trigger and foreign key off: what the tables cost on this machine.
 */
export const BULK_MODES = ['one statement', 'batches', 'one per transaction', 'floor: no read model', 'floor: tables only'] as const;
const TARGET_BULK_MODES: ReadonlySet<BulkWrite['mode']> = new Set(['one statement', 'batches']);

export interface BulkWrite {
  size: string;
  mode: (typeof BULK_MODES)[number];
  memberships: number;
  roleMappings: number;
  seconds: number;
  membershipsPerSec: number;
  /** Batches only: memberships per transaction (two statements each). */
  batchSize?: number;
  /** Removing them all again by a cascading DELETE, for information. */
  cleanupSeconds: number;
}

export interface SweepResults {
  version: 1;
  date: string;
  machine: { cores: number; model: string; memoryGb: number; node: string; postgres: string; loadAverage: { start: number[]; end: number[] } };
  git: { commit: string; dirty: boolean };
  settings: { seconds: number; warmupSeconds: number; adminSeconds: number; pool: number; baseConcurrency: number; bulkMemberships: number; bulkBatches: number; rounds?: number };
  sizes: SizeInfo[];
  points: SweepPoint[];
  bulk: BulkWrite[];
  admin: { size: string; reads: Array<Omit<AdminReadResult, 'errorSamples'>> } | undefined;
  /** Errors any case met (none in a valid run). */
  errors: string[];
}

export interface TargetResult {
  target: string;
  status: 'MET' | 'MISSED' | 'NOT MEASURED';
  figure: string;
}

export const THROUGHPUT_RATIO_TARGET = 0.7;
export const P99_RATIO_TARGET = 1.5;
export const P99_GROWTH_TARGET = 1.3;
export const BULK_TARGET = 50_000;
export const ADMIN_P99_TARGET_MS = 50;

const f2 = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
const int = (value: number) => Math.round(value).toLocaleString('en-US');
const where = (p: SweepPoint, c: PointCase) => `${c.case} at ${p.size}, ${p.concurrency} in flight`;
export const bulkMode = (b: BulkWrite) => (b.batchSize ? `${b.mode} of ${int(b.batchSize)}` : b.mode);
const status = (measured: boolean, ok: boolean): TargetResult['status'] => (!measured ? 'NOT MEASURED' : ok ? 'MET' : 'MISSED');

/** Each target of issue #15 item 3, from the figures alone. */
export function evaluateTargets(r: SweepResults): TargetResult[] {
  const dialects = r.points.flatMap((p) => p.cases.filter((c) => c.case !== 'floor').map((c) => ({ p, c })));
  const below = dialects.filter(({ c }) => !(c.throughputRatio >= THROUGHPUT_RATIO_TARGET));
  const worstThroughput = dialects.reduce<(typeof dialects)[number] | undefined>((w, d) => (!w || d.c.throughputRatio < w.c.throughputRatio ? d : w), undefined);
  const above = dialects.filter(({ c }) => !(c.p99Ratio <= P99_RATIO_TARGET));
  const worstP99 = dialects.reduce<(typeof dialects)[number] | undefined>((w, d) => (!w || d.c.p99Ratio > w.c.p99Ratio ? d : w), undefined);

  const base = r.points.filter((p) => p.concurrency === r.settings.baseConcurrency).sort((a, b) => a.memberships - b.memberships);
  const native = (p: SweepPoint | undefined) => p?.cases.find((c) => c.case === 'native');
  const smallest = native(base[0]);
  const largest = native(base[base.length - 1]);
  const growth = smallest && largest && base.length > 1 ? largest.p99Ms / smallest.p99Ms : Number.NaN;

  const bulk = r.bulk.filter((b) => TARGET_BULK_MODES.has(b.mode));
  const slowestBulk = bulk.reduce<BulkWrite | undefined>((w, b) => (!w || b.membershipsPerSec < w.membershipsPerSec ? b : w), undefined);
  const tablesOnly = r.bulk.filter((b) => b.mode === 'floor: tables only');
  const fastestFloor = tablesOnly.reduce<BulkWrite | undefined>((w, b) => (!w || b.membershipsPerSec > w.membershipsPerSec ? b : w), undefined);
  const lists = r.admin?.reads.filter((read) => read.list) ?? [];
  const slowestList = lists.reduce<(typeof lists)[number] | undefined>((w, read) => (!w || read.p99Ms > w.p99Ms ? read : w), undefined);

  return [
    {
      target: `every dialect ≥ ${THROUGHPUT_RATIO_TARGET}× the floor's throughput at every point`,
      status: status(worstThroughput !== undefined, below.length === 0),
      figure: worstThroughput
        ? `lowest ${f2(worstThroughput.c.throughputRatio)} (${where(worstThroughput.p, worstThroughput.c)}); ${below.length} of ${dialects.length} below`
        : 'no points',
    },
    {
      target: `every dialect's p99 ≤ ${P99_RATIO_TARGET}× the floor's p99 at every point`,
      status: status(worstP99 !== undefined, above.length === 0),
      figure: worstP99 ? `highest ${f2(worstP99.c.p99Ratio)} (${where(worstP99.p, worstP99.c)}); ${above.length} of ${dialects.length} above` : 'no points',
    },
    {
      target: `enrich-token's p99 at the largest size ≤ ${P99_GROWTH_TARGET}× its p99 at the smallest (${r.settings.baseConcurrency} in flight)`,
      status: status(Number.isFinite(growth), growth <= P99_GROWTH_TARGET),
      figure: Number.isFinite(growth)
        ? `${f2(growth)}× (${f2(largest!.p99Ms)} ms at ${base[base.length - 1]!.size} vs ${f2(smallest!.p99Ms)} ms at ${base[0]!.size})`
        : 'needs two sizes',
    },
    {
      target: `bulk policy writes ≥ ${int(BULK_TARGET)} memberships/s through the read-model maintenance`,
      status: status(slowestBulk !== undefined, (slowestBulk?.membershipsPerSec ?? 0) >= BULK_TARGET),
      figure: slowestBulk
        ? `slowest ${int(slowestBulk.membershipsPerSec)}/s (${slowestBulk.size}, ${bulkMode(slowestBulk)}); ${bulk.filter((b) => b.membershipsPerSec < BULK_TARGET).length} of ${bulk.length} below` +
          (fastestFloor ? `; the tables alone, no trigger or foreign key, at most ${int(fastestFloor.membershipsPerSec)}/s (${fastestFloor.size})` : '')
        : 'not run',
    },
    {
      target: `admin list pages p99 ≤ ${ADMIN_P99_TARGET_MS} ms on a big tenant, page 1 and deep alike`,
      status: status(slowestList !== undefined, (slowestList?.p99Ms ?? Infinity) <= ADMIN_P99_TARGET_MS),
      figure: slowestList ? `slowest p99 ${f2(slowestList.p99Ms)} ms (${slowestList.name}); ${lists.length} pages measured` : 'not run',
    },
  ];
}

const pad = (text: string, width: number, left = false) => (left ? text.padEnd(width) : text.padStart(width));

/** The printed table: one block per point, then bulk writes, admin reads and the targets. */
export function formatReport(r: SweepResults): string {
  const lines: string[] = [];
  for (const p of r.points) {
    lines.push('', `${p.size} (${int(p.memberships)} memberships), ${p.concurrency} in flight`);
    lines.push(`  ${pad('case', 28, true)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('req/s', 9)}${pad('× floor', 9)}${pad('p99 ×', 8)}${pad('errors', 8)}` +
      '   CPU ms/req: node  postgres');
    const cpu = (value: number | undefined) => (value === undefined ? 'n/a' : value.toFixed(3));
    for (const c of p.cases) {
      lines.push(`  ${pad(CASE_LABELS[c.case], 28, true)}${pad(f2(c.p50Ms), 9)}${pad(f2(c.p99Ms), 9)}${pad(int(c.reqPerSec), 9)}` +
        `${pad(f2(c.throughputRatio), 9)}${pad(f2(c.p99Ratio), 8)}${pad(String(c.errors), 8)}${pad(cpu(c.cpuMsPerRequest?.node), 18)}${pad(cpu(c.cpuMsPerRequest?.database), 10)}`);
    }
  }
  if (r.bulk.length > 0) {
    lines.push('', 'bulk writes (memberships with their role mappings, through the read-model triggers; the floors rolled back)');
    for (const b of r.bulk) {
      lines.push(`  ${pad(b.size, 6, true)} ${pad(bulkMode(b), 22, true)} ${pad(int(b.membershipsPerSec), 9)} memberships/s ` +
        `(${int(b.memberships)} + ${int(b.roleMappings)} role mappings in ${f2(b.seconds)} s)`);
    }
    const cleanups = [...new Map(r.bulk.map((b) => [b.size, b.cleanupSeconds]))];
    lines.push(`  removing them again (one cascading DELETE): ${cleanups.map(([size, s]) => `${f2(s)} s at ${size}`).join(', ')}`);
  }
  if (r.admin) {
    lines.push('', `admin reads at ${r.admin.size}, one at a time`);
    for (const a of r.admin.reads) {
      lines.push(`  ${pad(a.name, 46, true)}p50 ${pad(f2(a.p50Ms), 7)} ms  p99 ${pad(f2(a.p99Ms), 7)} ms  ${pad(String(a.items ?? '-'), 4)} items  ${a.request}`);
    }
  }
  lines.push('', 'targets (issue #15)');
  for (const t of evaluateTargets(r)) lines.push(`  ${pad(t.status, 12, true)} ${t.target}: ${t.figure}`);
  return lines.join('\n');
}
