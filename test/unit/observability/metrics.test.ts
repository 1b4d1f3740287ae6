import { describe, expect, it, jest } from '@jest/globals';
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

/** The counters and the gauge flush without being awaited: their line is out a few microtasks later. */
const flushed = () => new Promise((resolve) => setImmediate(resolve));

describe('createMetrics', () => {
  const lines: string[] = [];
  const metrics = createMetrics('Citadel/Test', (line) => lines.push(line));

  it('writes one EMF line per request with the runbook names, per handler and status class', async () => {
    lines.length = 0;
    await metrics.http({ handler: '/system/enrich-token', status: 404, durationSeconds: 0.0123, requestId: 'r-1' });
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
  ] as const)('counts %s as %s with an operation dimension', async (method, name) => {
    lines.length = 0;
    metrics[method]('token');
    await flushed();
    expect(lines).toHaveLength(1);
    const doc = expectValidEmf(lines[0]!);
    expect(doc).toMatchObject({ service: 'iam-service', operation: 'token', [name]: 1 });
    expect(doc._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Citadel/Test',
      Dimensions: [['operation'], ['service']],
      Metrics: [{ Name: name, Unit: 'Count' }],
    });
  });

  it('keeps enrich-token dialects apart in a third dimension set', async () => {
    lines.length = 0;
    await metrics.http({ handler: '/system/enrich-token', dialect: 'hydra', status: 200, durationSeconds: 0.002, requestId: 'r-2' });
    const doc = expectValidEmf(lines[0]!);
    expect(doc).toMatchObject({ handler: '/system/enrich-token', dialect: 'hydra', status: '2xx', http_status: 200, request_id: 'r-2' });
    expect(doc._aws.CloudWatchMetrics[0].Dimensions).toEqual([['handler'], ['handler', 'status'], ['handler', 'dialect']]);
  });

  it('emits the outbox age as a gauge of the service', async () => {
    lines.length = 0;
    metrics.outboxOldestUnpublishedAge(42);
    await flushed();
    const doc = expectValidEmf(lines[0]!);
    expect(doc).toMatchObject({ service: 'iam-service', outbox_oldest_unpublished_age_seconds: 42 });
    expect(doc._aws.CloudWatchMetrics).toEqual([
      { Namespace: 'Citadel/Test', Dimensions: [['service']], Metrics: [{ Name: 'outbox_oldest_unpublished_age_seconds', Unit: 'Seconds' }] },
    ]);
  });

  it('writes no default dimensions and no environment properties, whatever the line', async () => {
    lines.length = 0;
    for (const status of [200, 200, 503]) await metrics.http({ handler: '/tenants', status, durationSeconds: 0.01, requestId: `r-${status}` });
    metrics.databaseError('claims');
    await flushed();
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const doc = expectValidEmf(line);
      const dimensionNames = new Set(doc._aws.CloudWatchMetrics.flatMap((d: { Dimensions: string[][] }) => d.Dimensions.flat()));
      expect([...dimensionNames].every((name) => ['handler', 'status', 'dialect', 'operation', 'service'].includes(name as string))).toBe(true);
      for (const absent of ['LogGroup', 'ServiceName', 'ServiceType', 'executionEnvironment', 'memorySize', 'functionVersion', 'logStreamId']) expect(doc).not.toHaveProperty(absent);
    }
    // Each line carries only its own request: the template a logger is copied from keeps no values.
    expect(lines.slice(0, 3).map((line) => [JSON.parse(line).request_id, JSON.parse(line).http_requests_total])).toEqual([
      ['r-200', 1],
      ['r-200', 1],
      ['r-503', 1],
    ]);
  });

  it('never fails the request when a line cannot be written', async () => {
    const failing = createMetrics('Citadel/Test', () => {
      throw new Error('stdout closed');
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(failing.http({ handler: '/tenants', status: 200, durationSeconds: Number.NaN, requestId: 'r' })).resolves.toBeUndefined();
      await expect(failing.http({ handler: '/tenants', status: 200, durationSeconds: 0.1, requestId: 'r' })).resolves.toBeUndefined();
      expect(() => failing.idpError('jwks')).not.toThrow();
      await flushed();
      expect(stderr.mock.calls.map(([line]) => JSON.parse(String(line)).msg)).toEqual(['metrics line dropped', 'metrics line dropped', 'metrics line dropped']);
    } finally {
      stderr.mockRestore();
    }
  });
});
