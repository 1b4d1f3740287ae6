/** What each measured case reports back to the orchestrator. */
export interface CaseResult {
  p50Ms: number;
  p99Ms: number;
  reqPerSec: number;
  requests: number;
  errors: number;
  /** A few failures, verbatim, for the report. */
  errorSamples: string[];
  /** CPU per completed request in the measured process and in its PostgreSQL backends. */
  cpuMsPerRequest?: { node: number; database: number | undefined };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(latenciesMs: number[], seconds: number, errors: number, errorSamples: string[]): CaseResult {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    reqPerSec: latenciesMs.length / seconds,
    requests: latenciesMs.length,
    errors,
    errorSamples,
  };
}
