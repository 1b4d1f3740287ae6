/**
 * Is R-Auth usable by this service? Each check is timed and labelled with the part of IAM it
 * serves, the split the older IAM runbook escalates by: `identity` (discovery, signing keys,
 * our credentials still get a token) and `access-management` (the client registry answers).
 * The report names the failed check and a safe reason, never a credential or an IdP body.
 *
 * The probe runs on a schedule and its report is stored (IdpHealthStore); the route answers
 * the stored report, so callers never multiply the calls to R-Auth (`idpHealth` below).
 */
import type { Logger } from '../observability/logger.js';
import type { IdpHealthStore, StoredReport } from './ports.js';

export type Component = 'identity' | 'access-management';

export interface CheckResult {
  name: string;
  component: Component;
  status: 'pass' | 'fail';
  latency_ms: number;
  /** Why it failed, in words safe to show anyone (e.g. "timeout", "HTTP 503"). */
  reason?: string;
}

export interface HealthReport {
  status: 'pass' | 'fail';
  identity: 'pass' | 'fail';
  'access-management': 'pass' | 'fail';
  checks: CheckResult[];
}

/** One probe of the IdP; throws a CheckFailed (or anything) when the IdP is not usable. */
export interface IdpCheck {
  name: string;
  component: Component;
  /** The runbook operation its failure counts under in idp_adapter_errors_total. */
  operation: string;
  run(): Promise<void>;
}

export class CheckFailed extends Error {}

export async function probeIdp(deps: { checks: readonly IdpCheck[]; metrics: { idpError(operation: string): void } }): Promise<HealthReport> {
  const checks: CheckResult[] = [];
  // In order: a failed discovery makes the later checks meaningless, but they still run and
  // report, so the operator sees the whole picture in one answer.
  for (const check of deps.checks) {
    const started = performance.now();
    try {
      await check.run();
      checks.push({ name: check.name, component: check.component, status: 'pass', latency_ms: elapsed(started) });
    } catch (error) {
      deps.metrics.idpError(check.operation);
      const reason = error instanceof CheckFailed ? error.message : 'unreachable';
      checks.push({ name: check.name, component: check.component, status: 'fail', latency_ms: elapsed(started), reason });
    }
  }
  const of = (component: Component) => (checks.some((c) => c.component === component && c.status === 'fail') ? 'fail' : 'pass');
  const identity = of('identity');
  const accessManagement = of('access-management');
  return {
    status: identity === 'pass' && accessManagement === 'pass' ? 'pass' : 'fail',
    identity,
    'access-management': accessManagement,
    checks,
  };
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 10) / 10;

export type IdpHealthAnswer =
  | { kind: 'report'; stored: StoredReport }
  /** No probe has recorded a report yet, and another caller's probe is running: not R-Auth's failure. */
  | { kind: 'pending' };

export interface IdpHealthDeps {
  checks: readonly IdpCheck[];
  metrics: { idpError(operation: string): void };
  store: IdpHealthStore;
  log: Pick<Logger, 'warn'>;
  /** A stored report older than this is refreshed by one caller, fleet-wide. */
  maxAgeSeconds: number;
  /** How long a probe may take; a lease whose holder died frees itself after this. */
  leaseSeconds: number;
}

export interface IdpHealth {
  /**
   * GET /system/idp-health: the latest stored report. When it is stale, the one caller that
   * wins the store's lease probes R-Auth and records the result; every other caller, in any
   * container, is served the stored report. So R-Auth sees at most one probe per
   * `maxAgeSeconds` from the route, however many callers there are.
   */
  answer(): Promise<IdpHealthAnswer>;
  /** The schedule: probes R-Auth (its failures are counted) and records the report. */
  probeAndRecord(): Promise<HealthReport>;
}

export function idpHealth(deps: IdpHealthDeps): IdpHealth {
  const probeAndRecord = async (): Promise<StoredReport> => {
    const report = await probeIdp(deps);
    try {
      return await deps.store.record(report);
    } catch (error) {
      // The probe ran and counted its failures, which is what the alarm needs; a report that
      // could not be stored is still this caller's answer. The store's own error already
      // counted in database_errors_total.
      deps.log.warn('IdP health report not stored', { status: report.status }, error);
      return { report, checkedAt: new Date(), ageSeconds: 0 };
    }
  };

  const answer = async (): Promise<IdpHealthAnswer> => {
    const latest = await deps.store.latest();
    const fresh = latest.stored !== undefined && latest.stored.ageSeconds <= deps.maxAgeSeconds;
    if (fresh || latest.probing) return latest.stored ? { kind: 'report', stored: latest.stored } : { kind: 'pending' };
    const { maxAgeSeconds, leaseSeconds } = deps;
    if (await deps.store.claimProbe({ maxAgeSeconds, leaseSeconds })) return { kind: 'report', stored: await probeAndRecord() };
    // Another caller won the lease, or has just recorded a report newer than the one we read.
    const now = await deps.store.latest();
    const stored = now.stored ?? latest.stored;
    return stored ? { kind: 'report', stored } : { kind: 'pending' };
  };

  // One container's concurrent callers share one answer (one read, at most one probe).
  let inFlight: Promise<IdpHealthAnswer> | undefined;
  return {
    answer: () =>
      (inFlight ??= answer().finally(() => {
        inFlight = undefined;
      })),
    probeAndRecord: async () => (await probeAndRecord()).report,
  };
}
