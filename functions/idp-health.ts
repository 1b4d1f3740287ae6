/**
 * GET /system/idp-health — is R-Auth usable? The latest report of the probe, never a probe per
 * call: 200 when every check passed, 503 naming the failed ones (application/health+json), with
 * `checked_at` and `age` (seconds). A stale report is refreshed by one caller fleet-wide (see
 * lib/health/idp-health.ts); before any report exists, 503 with `"status":"unknown"`.
 * `scheduled` probes every minute and stores the report, so the idp_adapter_errors_total alarm
 * fires without traffic and the route normally only reads.
 */
import type { HealthReport } from '../lib/health/idp-health.js';
import { healthRuntime } from '../lib/wiring/idp-health.js';
import { httpFunction } from '../lib/http/stack.js';
import { eventFunction } from '../lib/observability/event-function.js';

const app = healthRuntime();
const HEALTH_JSON = { 'content-type': 'application/health+json' };

export const handler = httpFunction(app, { name: '/system/idp-health' }, async () => {
  const answer = await app.health.answer();
  if (answer.kind === 'pending') {
    const body = { status: 'unknown', detail: 'The IdP health probe has not run yet; retry in a few seconds.' };
    return { status: 503, body, headers: { ...HEALTH_JSON, 'retry-after': '5' } };
  }
  const { report, checkedAt, ageSeconds } = answer.stored;
  const body = { ...report, checked_at: checkedAt.toISOString(), age: ageSeconds };
  return { status: report.status === 'pass' ? 200 : 503, body, headers: HEALTH_JSON };
});

export const scheduled = eventFunction<unknown, HealthReport>(app, { name: 'idp-health-probe' }, async (_event, { log }) => {
  const report = await app.health.probeAndRecord();
  const failed = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.reason}`);
  if (failed.length) log.error('IdP health check failed', { identity: report.identity, access_management: report['access-management'], failed });
  else log.info('IdP health check passed', { checks: report.checks.map((c) => `${c.name} ${c.latency_ms} ms`) });
  return report;
});
