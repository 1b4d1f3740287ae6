import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { invoke } from '../support/invoke.js';

const KEY = 'enrich-test-key-0123456789abcdefghijklmnop';

describe('POST /system/enrich-token with the database down', () => {
  let handler: LambdaHttpHandler;
  const emitted: string[] = [];

  beforeAll(async () => {
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void emitted.push(String(line)));
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    Object.assign(process.env, {
      DATABASE_URL: 'postgres://iam:db-password-s3cret@127.0.0.1:1/iam',
      ENRICH_API_KEYS: KEY,
      DB_CONNECT_TIMEOUT_MS: '500',
    });
    ({ handler } = await import('../../functions/enrich-token.js'));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await (await import("../../lib/wiring/base.js")).runtime().db.end();
  });

  it('answers 503 with a generic problem that leaks nothing', async () => {
    const answer = await invoke(handler, { headers: { 'x-api-key': KEY }, body: { subject: 'u-123' } });
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json).toEqual({
      type: 'urn:citadel:iam:problem:dependency-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'A dependency of the service is unavailable; retry shortly.',
      request_id: answer.headers['x-request-id'],
    });
  });

  it('fails closed in every dialect: Hydra and Oathkeeper get the same 503, never an allow', async () => {
    const hydra = { session: { id_token: { subject: 'u-123' }, client_id: 'web' }, request: { client_id: 'web', grant_types: ['authorization_code'] } };
    const oathkeeper = { subject: 'u-123', extra: {}, header: {}, match_context: { url: 'https://api.example/x', method: 'GET' } };
    for (const body of [hydra, oathkeeper]) {
      const answer = await invoke(handler, { headers: { 'x-api-key': KEY }, body });
      expect({ status: answer.status, type: answer.json.type }).toEqual({ status: 503, type: 'urn:citadel:iam:problem:dependency-unavailable' });
    }
  });

  it('counts database_errors_total and logs the failure without the password', () => {
    const entries = emitted.map((line) => JSON.parse(line));
    expect(entries).toContainEqual(expect.objectContaining({ operation: 'claims.by_subject', database_errors_total: 1 }));
    expect(entries).toContainEqual(expect.objectContaining({ level: 'error', msg: 'database operation failed', operation: 'claims.by_subject' }));
    expect(entries).toContainEqual(expect.objectContaining({ handler: '/system/enrich-token', status: '5xx', http_requests_total: 1 }));
    expect(emitted.join('\n')).not.toContain('db-password-s3cret');
  });
});
