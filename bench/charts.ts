/**
 * The sweep's charts: Vega-Lite specs made from a results file (chartSpecs, pure), rendered to
 * SVG headless by vega (no browser). `npm run bench:charts [-- results.json]` renders them again
 * from a results file (default: the newest bench/results/*-sweep.json), next to it.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { ADMIN_P99_TARGET_MS, BULK_TARGET, bulkMode, CASE_LABELS, CASES, evaluateTargets, type SweepResults } from './report.js';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** One colour per case, the floor in black, on every chart. */
const caseColor = {
  field: 'case', type: 'nominal', title: null, sort: CASES.map((c) => CASE_LABELS[c]), legend: { labelLimit: 300 },
  scale: { domain: CASES.map((c) => CASE_LABELS[c]), range: ['#000000', '#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#d62728'] },
} as const;

const subtitle = (r: SweepResults) =>
  `${r.date.slice(0, 10)} · ${r.machine.cores} cores (${r.machine.model}) · Node ${r.machine.node} · load ${r.machine.loadAverage.start[0]?.toFixed(1)}–${r.machine.loadAverage.end[0]?.toFixed(1)} · ${r.git.commit.slice(0, 7)}${r.git.dirty ? '+' : ''}`;

export interface Chart {
  /** File name suffix, e.g. `latency-vs-size`. */
  name: string;
  title: string;
  spec: TopLevelSpec;
}

/** The charts a results file makes (a chart with no data is left out). */
export function chartSpecs(r: SweepResults): Chart[] {
  const charts: Chart[] = [];
  const base = r.points.filter((p) => p.concurrency === r.settings.baseConcurrency);
  const latency = base.flatMap((p) => p.cases.flatMap((c) =>
    (['p50', 'p99'] as const).map((percentile) => ({ size: p.size, memberships: p.memberships, case: CASE_LABELS[c.case], percentile, ms: percentile === 'p50' ? c.p50Ms : c.p99Ms }))));
  if (new Set(base.map((p) => p.size)).size > 1) {
    charts.push({
      name: 'latency-vs-size',
      title: `Latency against data size, ${r.settings.baseConcurrency} in flight`,
      spec: {
        $schema: SCHEMA,
        title: { text: `Latency against data size (${r.settings.baseConcurrency} in flight)`, subtitle: subtitle(r) },
        data: { values: latency },
        mark: { type: 'line', point: true },
        encoding: {
          column: { field: 'percentile', type: 'nominal', title: null, header: { labelFontSize: 13 } },
          x: {
            field: 'memberships', type: 'quantitative', scale: { type: 'log', nice: false, padding: 12 }, title: 'memberships (log scale)',
            axis: { values: [...new Set(base.map((p) => p.memberships))], format: '.3~s' },
          },
          y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
          color: caseColor,
          tooltip: [{ field: 'case' }, { field: 'size' }, { field: 'ms', format: '.2f' }],
        },
        width: 300,
        height: 240,
      } as TopLevelSpec,
    });
  }

  const sizes = new Map<string, number>();
  for (const p of r.points) sizes.set(p.size, (sizes.get(p.size) ?? 0) + 1);
  const swept = [...sizes].find(([, n]) => n > 1)?.[0];
  if (swept) {
    const throughput = r.points.filter((p) => p.size === swept).flatMap((p) => p.cases.map((c) => ({ concurrency: p.concurrency, case: CASE_LABELS[c.case], reqPerSec: c.reqPerSec, ratio: c.throughputRatio })));
    charts.push({
      name: 'throughput-vs-concurrency',
      title: `Throughput against concurrency at ${swept}`,
      spec: {
        $schema: SCHEMA,
        title: { text: `Throughput against concurrency (size ${swept}, ${(r.points.find((p) => p.size === swept)?.memberships ?? 0).toLocaleString('en-US')} memberships)`, subtitle: subtitle(r) },
        data: { values: throughput },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'concurrency', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'requests in flight (log scale)', axis: { values: [...new Set(throughput.map((t) => t.concurrency))] } },
          y: { field: 'reqPerSec', type: 'quantitative', title: 'requests/s' },
          color: caseColor,
          tooltip: [{ field: 'case' }, { field: 'concurrency' }, { field: 'reqPerSec', format: ',.0f' }, { field: 'ratio', format: '.2f' }],
        },
        width: 480,
        height: 280,
      } as TopLevelSpec,
    });
  }

  if (r.bulk.length > 0) {
    const order = r.sizes.map((s) => s.name);
    charts.push({
      name: 'bulk-writes',
      title: 'Bulk-write throughput per size',
      spec: {
        $schema: SCHEMA,
        title: { text: 'Bulk writes through the read-model maintenance', subtitle: subtitle(r) },
        layer: [
          {
            data: { values: r.bulk.map((b) => ({ size: b.size, mode: bulkMode(b), perSec: b.membershipsPerSec })) },
            mark: 'bar',
            encoding: {
              x: { field: 'size', type: 'nominal', sort: order, title: 'data size', axis: { labelAngle: 0 } },
              xOffset: { field: 'mode' },
              y: { field: 'perSec', type: 'quantitative', title: 'memberships/s' },
              color: { field: 'mode', type: 'nominal', title: null },
            },
          },
          {
            data: { values: [{ target: BULK_TARGET, label: `target ${BULK_TARGET.toLocaleString('en-US')}/s` }] },
            layer: [
              { mark: { type: 'rule', strokeDash: [6, 4], color: '#d62728' }, encoding: { y: { field: 'target', type: 'quantitative' } } },
              { mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#d62728' }, encoding: { y: { field: 'target', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } },
            ],
          },
        ],
        width: 420,
        height: 260,
      } as TopLevelSpec,
    });
  }

  if (r.admin && r.admin.reads.length > 0) {
    const reads = r.admin.reads.flatMap((a) => (['p50', 'p99'] as const).map((percentile) => ({ read: a.name, percentile, ms: percentile === 'p50' ? a.p50Ms : a.p99Ms })));
    charts.push({
      name: 'admin-reads',
      title: `Admin reads at ${r.admin.size}`,
      spec: {
        $schema: SCHEMA,
        title: { text: `Admin reads on a big tenant (${r.admin.size})`, subtitle: subtitle(r) },
        layer: [
          {
            data: { values: reads },
            mark: 'bar',
            encoding: {
              y: { field: 'read', type: 'nominal', title: null, sort: r.admin.reads.map((a) => a.name), axis: { labelLimit: 320 } },
              yOffset: { field: 'percentile' },
              x: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
              color: { field: 'percentile', type: 'nominal', title: null },
            },
          },
          {
            data: { values: [{ target: ADMIN_P99_TARGET_MS }] },
            mark: { type: 'rule', strokeDash: [6, 4], color: '#d62728' },
            encoding: { x: { field: 'target', type: 'quantitative' } },
          },
        ],
        width: 420,
        height: 28 * r.admin.reads.length,
      } as TopLevelSpec,
    });
  }
  return charts;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  return new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' }).toSVG();
}

/** Writes `<stem>-<chart>.svg` next to the results file; returns the paths. */
export async function renderCharts(r: SweepResults, resultsFile: string): Promise<string[]> {
  const stem = resultsFile.replace(/\.json$/, '');
  const written: string[] = [];
  for (const chart of chartSpecs(r)) {
    const path = `${stem}-${chart.name}.svg`;
    writeFileSync(path, await renderSvg(chart.spec));
    written.push(path);
  }
  return written;
}

export const newestResults = (dir = RESULTS_DIR) => {
  const files = readdirSync(dir).filter((name) => name.endsWith('-sweep.json')).sort();
  if (files.length === 0) throw new Error(`no *-sweep.json in ${dir}: run npm run bench -- --sweep first`);
  return join(dir, files[files.length - 1]!);
};

async function main(): Promise<void> {
  const file = resolve(process.argv[2] ?? newestResults());
  const results = JSON.parse(readFileSync(file, 'utf8')) as SweepResults;
  if (results.version !== 1) throw new Error(`${file}: not a sweep results file (version ${String(results.version)})`);
  for (const path of await renderCharts(results, file)) console.log(`wrote ${join(basename(dirname(path)), basename(path))}`);
  for (const t of evaluateTargets(results)) console.log(`${t.status.padEnd(12)} ${t.target}: ${t.figure}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error('bench:charts failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
