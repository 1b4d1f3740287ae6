/**
 * Where the IdP health probe keeps its latest report, shared by the whole fleet: the scheduled
 * probe and every container serving GET /system/idp-health see the same one. Time is the
 * store's own clock (one clock for every container), so ages and leases never depend on a
 * container's.
 */
import type { HealthReport } from './idp-health.js';

export interface StoredReport {
  report: HealthReport;
  checkedAt: Date;
  /** Seconds since `checkedAt`, by the store's clock. */
  ageSeconds: number;
}

export interface LatestReport {
  /** Undefined until a probe has recorded one. */
  stored: StoredReport | undefined;
  /** Someone holds the lease: a probe is running somewhere now. */
  probing: boolean;
}

export interface IdpHealthStore {
  latest(): Promise<LatestReport>;
  /**
   * Takes the lease to probe, for `leaseSeconds`, if the report is missing or older than
   * `maxAgeSeconds` and no one holds an unexpired lease. Atomic: of any number of concurrent
   * callers, across containers, at most one gets true.
   */
  claimProbe(options: { maxAgeSeconds: number; leaseSeconds: number }): Promise<boolean>;
  /** Stores a probe's report as the latest (checked now) and releases the lease. */
  record(report: HealthReport): Promise<StoredReport>;
}
