/**
 * Is R-Auth usable by this service? Each check is timed and labelled with the part of IAM it
 * serves, the split the older IAM runbook escalates by: `identity` (discovery, signing keys,
 * our credentials still get a token) and `access-management` (the client registry answers).
 * The report names the failed check and a safe reason, never a credential or an IdP body.
 */
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
