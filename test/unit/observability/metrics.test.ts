import { describe, expect, it } from '@jest/globals';
import { createMetrics } from '../../../lib/observability/metrics.js';

/** What CloudWatch requires of an EMF line (the embedded metric format specification). */
function expectValidEmf(line: string): Record<string, any> {
  const doc = JSON.parse(line);
  expect(Number.isInteger(doc._aws.Timestamp)).toBe(true);
  expect(Math.abs(doc._aws.Timestamp - Date.now())).toBeLessThan(60_000);
  for (const directive of doc._aws.CloudWatchMetrics) {
    expect(typeof directive.Namespace).toBe('string');
    for (const set of directive.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(30);
      for (const name of set) expect(typeof doc[name]).toBe('string');
    }
    for (const metric of directive.Metrics) {
      expect(['Count', 'Seconds']).toContain(metric.Unit);
      expect(typeof doc[metric.Name]).toBe('number');
    }
  }
  return doc;
}

describe('createMetrics', () => {
  const lines: string[] = [];
  const metrics = createMetrics('Citadel/Test', (line) => lines.push(line));

  it('writes one EMF line per request with the runbook names, per handler and status class', () => {
    lines.length = 0;
    metrics.http({ handler: '/system/enrich-token', status: 404, durationSeconds: 0.0123, requestId: 'r-1' });
    expect(lines).toHaveLength(1);
    const doc = expectValidEmf(lines[0]!);
    expect(doc).toMatchObject({
      handler: '/system/enrich-token',
      status: '4xx',
      http_status: 404,
      request_id: 'r-1',
      http_requests_total: 1,
      http_request_duration_seconds: 0.0123,
    });
    expect(doc._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Citadel/Test',
        Dimensions: [['handler'], ['handler', 'status']],
        Metrics: [
          { Name: 'http_requests_total', Unit: 'Count' },
          { Name: 'http_request_duration_seconds', Unit: 'Seconds' },
        ],
      },
    ]);
  });

  it.each([
    ['databaseError', 'database_errors_total'],
    ['idpError', 'idp_adapter_errors_total'],
  ] as const)('counts %s as %s with an operation dimension', (method, name) => {
    lines.length = 0;
    metrics[method]('token');
    const doc = expectValidEmf(lines[0]!);
    expect(doc).toMatchObject({ service: 'iam-service', operation: 'token', [name]: 1 });
    expect(doc._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Citadel/Test',
      Dimensions: [['operation'], ['service']],
      Metrics: [{ Name: name, Unit: 'Count' }],
    });
  });
});
