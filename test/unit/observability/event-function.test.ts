import { describe, expect, it } from '@jest/globals';
import { DependencyUnavailableError, ForbiddenError, type AppError } from '../../../lib/errors.js';
import { eventFunction } from '../../../lib/observability/event-function.js';
import { createLogger } from '../../../lib/observability/logger.js';
import { createMetrics } from '../../../lib/observability/metrics.js';

function runtime() {
  const logs: Array<Record<string, any>> = [];
  const metrics: Array<Record<string, any>> = [];
  return {
    logs,
    metrics,
    app: {
      log: createLogger('debug', { service: 'iam-service' }, (line) => logs.push(JSON.parse(line))),
      metrics: createMetrics('Citadel/Test', (line) => metrics.push(JSON.parse(line))),
    },
  };
}

describe('eventFunction', () => {
  it('gives the handler a request id and a child logger, and writes one metrics line per invocation', async () => {
    const { app, logs, metrics } = runtime();
    const handler = eventFunction(app, { name: 'outbox-relay' }, async (_event, context) => {
      context.log.info('outbox relay run', { published: 1 });
      return context.requestId;
    });

    await expect(handler({}, { awsRequestId: 'aws-1' })).resolves.toBe('aws-1');
    expect(logs).toEqual([expect.objectContaining({ level: 'info', msg: 'outbox relay run', request_id: 'aws-1', handler: 'outbox-relay', service: 'iam-service' })]);
    expect(metrics).toEqual([expect.objectContaining({ handler: 'outbox-relay', status: '2xx', http_status: 200, request_id: 'aws-1', http_requests_total: 1 })]);
  });

  it('makes up a request id when Lambda gave none (a test, a local invoke)', async () => {
    const { app } = runtime();
    const handler = eventFunction(app, { name: 'client-reconcile' }, async (_event, { requestId }) => requestId);
    expect(await handler()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports the status the handler sets, labelled with its dialect', async () => {
    const { app, metrics } = runtime();
    const handler = eventFunction(app, { name: 'cognito-pre-token-generation', dialect: 'cognito' }, async (event: { n: number }, context) => {
      context.status = 204;
      return event;
    });
    await handler({ n: 1 }, { awsRequestId: 'c-1' });
    expect(metrics[0]).toMatchObject({ handler: 'cognito-pre-token-generation', dialect: 'cognito', status: '2xx', http_status: 204 });
  });

  it('logs a 5xx as `request failed` with the error, counts it, and throws it on', async () => {
    const { app, logs, metrics } = runtime();
    const failure = new Error('connection refused');
    const handler = eventFunction(app, { name: 'idp-health-probe' }, async () => {
      throw failure;
    });
    await expect(handler({}, { awsRequestId: 'p-1' })).rejects.toBe(failure);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'error', msg: 'request failed', status: 500, code: 'internal', request_id: 'p-1', handler: 'idp-health-probe', error: expect.objectContaining({ message: 'connection refused' }) }),
    ]);
    expect(metrics[0]).toMatchObject({ handler: 'idp-health-probe', status: '5xx', http_status: 500 });
  });

  it('logs a refusal without a stack (403 at info, other 4xx at warn) and throws what `refusal` makes of a failure', async () => {
    const { app, logs, metrics } = runtime();
    const refusal = (error: AppError, requestId: string) => new Error(error.expose ? error.message : `failed (request id ${requestId})`);
    const failWith = (error: Error) => eventFunction(app, { name: 'cognito-pre-token-generation', refusedMessage: 'token refused', refusal }, async () => {
      throw error;
    });

    await expect(failWith(new ForbiddenError('Not a member.', 'tenant-foreign'))({}, { awsRequestId: 'r-403' })).rejects.toThrow('Not a member.');
    await expect(failWith(new DependencyUnavailableError('database', new Error('down')))({}, { awsRequestId: 'r-503' })).rejects.toThrow('failed (request id r-503)');

    expect(logs.map(({ level, msg, status, code }) => ({ level, msg, status, code }))).toEqual([
      { level: 'info', msg: 'token refused', status: 403, code: 'tenant-foreign' },
      { level: 'error', msg: 'request failed', status: 503, code: expect.any(String) },
    ]);
    expect(logs[0]).not.toHaveProperty('error');
    expect(metrics.map((line) => line.http_status)).toEqual([403, 503]);
  });
});
