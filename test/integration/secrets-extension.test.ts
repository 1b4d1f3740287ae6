/**
 * SECRETS_SOURCE=extension: the secret store reading through the AWS Parameters and Secrets Lambda
 * Extension's local endpoint, against a loopback stand-in on its wire protocol
 * (test/support/secrets-extension.ts; the real extension only runs inside Lambda). The store's
 * invariants are the SDK path's (test/integration/secrets-manager.test.ts): TTL cache, forced
 * re-reads, shared requests, failures that name the secret and never a value.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { secretsManagerStore, type SecretsManagerStoreOptions } from '../../lib/adapters/aws/secrets-manager.js';
import { createLogger } from '../../lib/observability/logger.js';
import { type SecretsExtensionStandIn, startSecretsExtension } from '../support/secrets-extension.js';
import { unavailable } from '../support/secrets-manager.js';

let extension: SecretsExtensionStandIn;
let lines: string[];
let idCounter = 0;

beforeAll(async () => {
  extension = await startSecretsExtension();
});
afterAll(async () => {
  await extension.stop();
});
beforeEach(() => {
  extension.behave('honest');
  lines = [];
});

/** A store reading through the stand-in, logging into `lines`. */
function store(tuning: Partial<Pick<SecretsManagerStoreOptions, 'ttlSeconds' | 'minRefreshIntervalMs' | 'timeoutMs'>> & { sessionToken?: string } = {}) {
  const { sessionToken = extension.sessionToken, ...rest } = tuning;
  return secretsManagerStore({
    ttlSeconds: 300,
    minRefreshIntervalMs: 1000,
    timeoutMs: 500,
    ...rest,
    extension: { url: extension.url, sessionToken },
    log: createLogger('debug', {}, (line) => lines.push(line)),
  });
}

/** A secret id no other test uses (with characters that need URL encoding, as ARNs and RDS names have). */
function secret(value?: string): string {
  idCounter += 1;
  const id = `rds!cluster-iam/test+${idCounter}`;
  if (value !== undefined) extension.put(id, value);
  return id;
}

describe('reading through the extension', () => {
  test('returns the SecretString, once for the TTL and for concurrent readers', async () => {
    const id = secret('{"username":"iam","password":"pw-1"}');
    const s = store();
    const values = await Promise.all(Array.from({ length: 10 }, () => s.read(id)));
    expect(new Set(values)).toEqual(new Set(['{"username":"iam","password":"pw-1"}']));
    await expect(s.read(id)).resolves.toBe('{"username":"iam","password":"pw-1"}');
    expect(extension.reads(id)).toBe(1);
  });

  test('reads a rotated value at once when asked for a fresh one', async () => {
    const id = secret('old');
    const s = store({ minRefreshIntervalMs: 0 });
    await expect(s.read(id)).resolves.toBe('old');
    extension.put(id, 'new');
    await expect(s.read(id)).resolves.toBe('old');
    await expect(s.read(id, { fresh: true })).resolves.toBe('new');
    expect(extension.reads(id)).toBe(2);
  });
});

describe('failures through the extension', () => {
  test('a wrong session token is refused by the extension: unavailable, and the token is not logged', async () => {
    const id = secret('never-shown-value');
    const error = await unavailable(store({ sessionToken: 'not-the-session-token' }).read(id));
    expect(error.secretId).toBe(id);
    expect(error.message).toBe(`Secret "${id}" could not be read from the secret store: extension answered 401.`);
    expect(error.status).toBe(503);
    expect(extension.reads(id)).toBe(0);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'secret read from Secrets Manager failed', secretId: id, reason: 'extension answered 401' }),
    ]);
    expect(lines.join('\n')).not.toContain('not-the-session-token');
    expect(lines.join('\n')).not.toContain('never-shown-value');
  });

  test('an unknown secret is unavailable with the error Secrets Manager gave the extension', async () => {
    const id = secret();
    const error = await unavailable(store().read(id));
    expect(error.message).toContain('extension answered 400 (ResourceNotFoundException)');
  });

  test('a binary secret is unavailable', async () => {
    const id = secret();
    extension.put(id, new Uint8Array([1, 2, 3]));
    const error = await unavailable(store().read(id));
    expect(error.message).toContain('binary secret, not a SecretString');
  });

  test('an extension that does not answer is a timeout within the deadline', async () => {
    const id = secret('value');
    extension.behave('hang');
    const started = performance.now();
    const error = await unavailable(store({ timeoutMs: 300 }).read(id));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error.message).toContain('timed out');
  });

  test('a fresh read that fails keeps serving the cached value within its TTL', async () => {
    const id = secret('still-good-value');
    const s = store({ minRefreshIntervalMs: 0, timeoutMs: 300 });
    await s.read(id);
    extension.behave('hang');
    await expect(s.read(id, { fresh: true })).resolves.toBe('still-good-value');
    expect(lines.map((line) => (JSON.parse(line) as { reason: string }).reason)).toEqual(['timed out']);
  });

  test('an extension that is not there is unreachable', async () => {
    const gone = await startSecretsExtension();
    await gone.stop();
    const id = secret('value');
    const error = await unavailable(
      secretsManagerStore({ ttlSeconds: 300, minRefreshIntervalMs: 0, timeoutMs: 500, extension: { url: gone.url, sessionToken: gone.sessionToken }, log: createLogger('error', {}, () => undefined) }).read(id),
    );
    expect(error.message).toContain('unreachable (ECONNREFUSED)');
  });
});
