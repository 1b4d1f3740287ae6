/**
 * The sweep's report and charts, from a results file: the targets of issue #15 judged from the
 * figures, and the Vega-Lite specs (compiled and rendered to SVG by the real vega).
 */
import { describe, expect, it } from '@jest/globals';
import { chartSpecs, renderSvg } from '../../../bench/charts.js';
import { type BulkWrite, CASES, evaluateTargets, formatReport, type PointCase, type SweepCase, type SweepPoint, type SweepResults } from '../../../bench/report.js';

/** A point where the floor does `floor` req/s with p99 `floorP99` and each other case `ratio`× of that. */
function point(size: string, memberships: number, concurrency: number, overrides: Partial<Record<SweepCase, Partial<PointCase>>> = {}): SweepPoint {
  const floor = { reqPerSec: 10_000, p99Ms: 4 };
  return {
    size,
    memberships,
    concurrency,
    cases: CASES.map((name) => {
      const c = { case: name, p50Ms: 1, p99Ms: name === 'floor' ? floor.p99Ms : 5, reqPerSec: name === 'floor' ? floor.reqPerSec : 8_000, requests: 1000, errors: 0, ...overrides[name] };
      return { ...c, throughputRatio: c.reqPerSec / floor.reqPerSec, p99Ratio: c.p99Ms / floor.p99Ms };
    }),
  };
}

const bulk = (size: string, mode: BulkWrite['mode'], perSec: number): BulkWrite => ({
  size, mode, memberships: 100_000, roleMappings: 200_000, seconds: 100_000 / perSec, membershipsPerSec: perSec, cleanupSeconds: 1,
});

function results(overrides: Partial<SweepResults> = {}): SweepResults {
  return {
    version: 1,
    date: '2026-11-30T06:00:00.000Z',
    machine: { cores: 2, model: 'Test CPU', memoryGb: 8, node: 'v20.20.2', postgres: '15.14', loadAverage: { start: [1.5, 1, 1], end: [2, 1, 1] } },
    git: { commit: 'abcdef0123456789', dirty: false },
    settings: { seconds: 5, warmupSeconds: 2, adminSeconds: 3, pool: 8, baseConcurrency: 32, bulkMemberships: 100_000, bulkBatches: 100 },
    sizes: [],
    points: [
      point('100k', 103_030, 32),
      point('1m', 1_030_303, 1),
      point('1m', 1_030_303, 32),
      point('1m', 1_030_303, 128),
      point('3m', 3_150_909, 32),
    ],
    bulk: [bulk('100k', 'one statement', 120_000), { ...bulk('100k', 'batches', 60_000), batchSize: 1_000 }, bulk('100k', 'one per transaction', 900)],
    admin: {
      size: '3m',
      reads: [
        { name: 'users, page 1', list: true, request: 'GET /tenants/bench-big/users', items: 50, p50Ms: 3, p99Ms: 12, reqPerSec: 300, requests: 900, errors: 0 },
        { name: 'users, page 1000', list: true, request: 'GET /tenants/bench-big/users?cursor=…', items: 50, p50Ms: 4, p99Ms: 20, reqPerSec: 250, requests: 750, errors: 0 },
        { name: 'explain (a user\'s access)', list: false, request: 'GET /tenants/bench-big/users/bench-b1/access', items: undefined, p50Ms: 30, p99Ms: 80, reqPerSec: 30, requests: 90, errors: 0 },
      ],
    },
    errors: [],
    ...overrides,
  };
}

const byTarget = (r: SweepResults) => {
  const [throughput, p99, growth, bulkWrites, adminLists] = evaluateTargets(r);
  return { throughput: throughput!, p99: p99!, growth: growth!, bulkWrites: bulkWrites!, adminLists: adminLists! };
};

describe('evaluateTargets', () => {
  it('meets every target when every figure is inside it', () => {
    const targets = evaluateTargets(results());
    expect(targets.map((t) => t.status)).toEqual(['MET', 'MET', 'MET', 'MET', 'MET']);
  });

  it('names the lowest throughput ratio and where it was measured', () => {
    const r = results();
    r.points[3] = point('1m', 1_030_303, 128, { 'forward-auth': { reqPerSec: 6_500 }, hydra: { reqPerSec: 6_900 } });
    const { throughput } = byTarget(r);
    expect(throughput.status).toBe('MISSED');
    expect(throughput.figure).toBe('lowest 0.65 (forward-auth at 1m, 128 in flight); 2 of 25 below');
  });

  it('judges each dialect p99 against the floor p99 of the same point', () => {
    const r = results();
    r.points[0] = point('100k', 103_030, 32, { cognito: { p99Ms: 6.4 } });
    const { p99 } = byTarget(r);
    expect(p99.status).toBe('MISSED');
    expect(p99.figure).toBe('highest 1.60 (cognito at 100k, 32 in flight); 1 of 25 above');
  });

  it('compares enrich-token p99 at the largest and the smallest size at the base concurrency only', () => {
    const r = results();
    r.points[0] = point('100k', 103_030, 32, { native: { p99Ms: 4 } });
    r.points[4] = point('3m', 3_150_909, 32, { native: { p99Ms: 5.6 } });
    // A worse p99 at another concurrency does not count.
    r.points[3] = point('1m', 1_030_303, 128, { native: { p99Ms: 50 } });
    expect(byTarget(r).growth).toEqual(expect.objectContaining({ status: 'MISSED', figure: '1.40× (5.60 ms at 3m vs 4.00 ms at 100k)' }));
    r.points[4] = point('3m', 3_150_909, 32, { native: { p99Ms: 5.2 } });
    expect(byTarget(r).growth.status).toBe('MET');
  });

  it('does not judge growth from a single size', () => {
    const { growth } = byTarget(results({ points: [point('1m', 1_030_303, 32)] }));
    expect(growth).toEqual(expect.objectContaining({ status: 'NOT MEASURED', figure: 'needs two sizes' }));
  });

  it('holds bulk writes to 50,000 memberships/s, one statement and batches alike, not single-row transactions', () => {
    expect(byTarget(results()).bulkWrites.figure).toBe('slowest 60,000/s (100k, batches of 1,000); 0 of 2 below');
    const r = results({ bulk: [bulk('1m', 'one statement', 80_000), { ...bulk('3m', 'batches', 41_234), batchSize: 1_000 }] });
    expect(byTarget(r).bulkWrites).toEqual(expect.objectContaining({ status: 'MISSED', figure: 'slowest 41,234/s (3m, batches of 1,000); 1 of 2 below' }));
    expect(byTarget(results({ bulk: [] })).bulkWrites.status).toBe('NOT MEASURED');
  });

  it('reports the floors beside bulk writes but never judges them', () => {
    const r = results({
      bulk: [
        bulk('1m', 'one statement', 5_000),
        bulk('1m', 'floor: no read model', 12_000),
        bulk('1m', 'floor: tables only', 24_000),
        bulk('3m', 'floor: tables only', 21_000),
      ],
    });
    expect(byTarget(r).bulkWrites).toEqual(expect.objectContaining({
      status: 'MISSED',
      figure: 'slowest 5,000/s (1m, one statement); 1 of 1 below; the tables alone, no trigger or foreign key, at most 24,000/s (1m)',
    }));
    expect(formatReport(r)).toMatch(/1m\s+floor: tables only\s+24,000 memberships\/s/);
  });

  it('holds admin list pages to p99 50 ms; a read that is not a list does not count', () => {
    expect(byTarget(results()).adminLists.figure).toBe('slowest p99 20.00 ms (users, page 1000); 2 pages measured');
    const r = results();
    r.admin!.reads[1] = { ...r.admin!.reads[1]!, p99Ms: 50.5 };
    expect(byTarget(r).adminLists.status).toBe('MISSED');
    expect(byTarget(results({ admin: undefined })).adminLists.status).toBe('NOT MEASURED');
  });
});

describe('formatReport', () => {
  it('prints each point with ratios to the floor, and each target with its verdict', () => {
    const r = results();
    r.points[2] = point('1m', 1_030_303, 32, { oathkeeper: { reqPerSec: 5_000 } });
    const text = formatReport(r);
    expect(text).toContain('1m (1,030,303 memberships), 32 in flight');
    expect(text).toMatch(/Ory Oathkeeper hydrator\s+1\.00\s+5\.00\s+5,000\s+0\.50\s+1\.25\s+0/);
    expect(text).toMatch(/MISSED\s+every dialect ≥ 0\.7× the floor's throughput at every point: lowest 0\.50/);
    expect(text).toContain('removing them again (one cascading DELETE): 1.00 s at 100k');
  });
});

describe('chartSpecs', () => {
  it('plots latency against size at the base concurrency and throughput against concurrency at the swept size', () => {
    const charts = chartSpecs(results());
    expect(charts.map((c) => c.name)).toEqual(['latency-vs-size', 'throughput-vs-concurrency', 'bulk-writes', 'admin-reads']);
    const latency = (charts[0]!.spec as { data: { values: Array<{ memberships: number; case: string; percentile: string }> } }).data.values;
    // 3 sizes at 32 in flight × 6 cases × p50 and p99; the 1 and 128 points are not on it.
    expect(latency).toHaveLength(3 * 6 * 2);
    expect(new Set(latency.map((v) => v.memberships))).toEqual(new Set([103_030, 1_030_303, 3_150_909]));
    const throughput = (charts[1]!.spec as { data: { values: Array<{ concurrency: number; reqPerSec: number }> } }).data.values;
    expect(new Set(throughput.map((v) => v.concurrency))).toEqual(new Set([1, 32, 128]));
    expect(charts[1]!.title).toBe('Throughput against concurrency at 1m');
  });

  it('leaves out a chart it has no data for', () => {
    const charts = chartSpecs(results({ points: [point('1m', 1_030_303, 32)], bulk: [], admin: undefined }));
    expect(charts).toEqual([]);
  });

  it('renders every chart to an SVG that names the cases and the target line', async () => {
    const charts = chartSpecs(results());
    const svgs = await Promise.all(charts.map((c) => renderSvg(c.spec)));
    for (const svg of svgs) expect(svg.startsWith('<svg')).toBe(true);
    expect(svgs[0]).toContain('Ory Hydra token hook');
    expect(svgs[0]).toContain('abcdef0');
    expect(svgs[2]).toContain('target 50,000/s');
    expect(svgs[3]).toContain('users, page 1000');
  });
});
