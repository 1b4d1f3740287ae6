/**
 * GET /system/idp-health — is R-Auth usable? 200 when every check passes, 503 naming the failed
 * one (application/health+json). `scheduled` runs the same probe every minute, so the
 * idp_adapter_errors_total alarm fires without traffic.
 */
import { probeIdp, type HealthReport } from '../lib/health/idp-health.js';
import { healthRuntime } from '../lib/health-runtime.js';
import { httpFunction } from '../lib/http/stack.js';

const app = healthRuntime();

export const handler = httpFunction(app, { name: '/system/idp-health' }, async () => {
  const report = await probeIdp(app);
  return { status: report.status === 'pass' ? 200 : 503, body: report, headers: { 'content-type': 'application/health+json' } };
});

export async function scheduled(): Promise<HealthReport> {
  const report = await probeIdp(app);
  const failed = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.reason}`);
  if (failed.length) app.log.error('IdP health check failed', { identity: report.identity, access_management: report['access-management'], failed });
  else app.log.info('IdP health check passed', { checks: report.checks.map((c) => `${c.name} ${c.latency_ms} ms`) });
  return report;
}
