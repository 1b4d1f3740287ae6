/**
 * Secrets Manager unreachable when a function starts cold: the function still starts (secrets
 * are read on first use, not at import), each request answers a generic 503 while the store
 * is down, the log names the secret that could not be read (never a value), and the first
 * request after the store is back is served — no crash loop, no restart.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { LambdaHttpHandler } from '../../lib/http/stack.js';
import { invoke } from '../support/invoke.js';
import { addTenant, mapSubject, testDatabase } from '../support/policy-fixture.js';
import { type SecretsManagerStandIn, startSecretsManager } from '../support/secrets-manager.js';
import { createTestDatabase } from '../support/test-database.js';

const KEY = 'gateway-key-secret-store-down-0123456789';

describe('Secrets Manager unreachable at cold start', () => {
  let secrets: SecretsManagerStandIn;
  let handler: LambdaHttpHandler;
  const emitted: string[] = [];

  beforeAll(async () => {
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => emitted.push(String(line)) > 0);
    const url = new URL(await createTestDatabase());
    const db = testDatabase(url.href);
    await mapSubject(db, await addTenant(db, 'acme'), 'alice', []);
    await db.end();

    secrets = await startSecretsManager();
    secrets.put('iam/test/database', JSON.stringify({ username: decodeURIComponent(url.username) || 'postgres', password: 'unused-with-trust-auth' }));
    secrets.put('iam/test/enrich-api-keys', JSON.stringify([KEY]));
    secrets.behave('down');
    const endpoint = new URL(url.href);
    endpoint.username = '';
    endpoint.password = '';
    for (const name of ['DATABASE_URL', 'ENRICH_API_KEYS']) delete process.env[name];
    Object.assign(process.env, {
      DATABASE_URL: endpoint.href, // the endpoint only; the credentials are the secret's
      DATABASE_SECRET_ID: 'iam/test/database',
      ENRICH_API_KEYS_SECRET_ID: 'iam/test/enrich-api-keys',
      SECRETS_MANAGER_ENDPOINT: secrets.endpoint,
      SECRETS_TIMEOUT_MS: '500',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
      AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key',
    });
    ({ handler } = await import('../../functions/enrich-token.js'));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await (await import('../../lib/wiring/base.js')).runtime().db.end();
    await secrets.stop();
  });

  it('answers a generic 503 while the store is down, and says in the log which secret it could not read', async () => {
    const answers = [await invoke(handler, { headers: { 'x-api-key': KEY }, body: { subject: 'alice' } })];
    answers.push(await invoke(handler, { headers: { 'x-api-key': KEY }, body: { subject: 'alice' } }));
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.json).toEqual(expect.objectContaining({ type: 'urn:citadel:iam:problem:dependency-unavailable', detail: 'A dependency of the service is unavailable; retry shortly.' }));
      expect(JSON.stringify(answer.json)).not.toContain('iam/test');
    }
    const named = emitted.filter((line) => line.includes('iam/test/enrich-api-keys'));
    expect(named.length).toBeGreaterThan(0);
    expect(emitted.join('\n')).not.toContain(KEY);
  });

  it('serves the first request after the store is back, without a restart', async () => {
    secrets.behave('honest');
    const answer = await invoke(handler, { headers: { 'x-api-key': KEY }, body: { subject: 'alice' } });
    expect({ status: answer.status, tenant: (answer.json.tenant as { slug?: string } | undefined)?.slug }).toEqual({ status: 200, tenant: 'acme' });
  });
});
