/**
 * The Secrets Manager store with the real SDK and Powertools against a loopback stand-in
 * (test/support/secrets-manager.ts): caching, forced re-reads after a rotation, the refresh
 * throttle, shared requests, and bounded failures that name the secret and never a value.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { secretsManagerStore, type SecretsManagerStoreOptions } from '../../lib/adapters/aws/secrets-manager.js';
import { createLogger } from '../../lib/observability/logger.js';
import { type SecretsManagerStandIn, standInOptions, startSecretsManager, unavailable } from '../support/secrets-manager.js';

let sm: SecretsManagerStandIn;
let lines: string[];
let idCounter = 0;

beforeAll(async () => {
  sm = await startSecretsManager();
});
afterAll(async () => {
  await sm.stop();
});
beforeEach(() => {
  sm.behave('honest');
  lines = [];
});

/** A store on the stand-in that logs into `lines`. */
function store(tuning: Partial<Pick<SecretsManagerStoreOptions, 'ttlSeconds' | 'minRefreshIntervalMs' | 'timeoutMs'>> = {}) {
  const log = createLogger('debug', {}, (line) => lines.push(line));
  return secretsManagerStore(standInOptions(sm, log, tuning));
}

/** A secret id no other test uses, so read counts start at zero. */
function secret(value?: string): string {
  idCounter += 1;
  const id = `iam/test-${idCounter}`;
  if (value !== undefined) sm.put(id, value);
  return id;
}

describe('reading', () => {
  test('returns the SecretString', async () => {
    const id = secret('{"username":"iam","password":"pw-1"}');
    await expect(store().read(id)).resolves.toBe('{"username":"iam","password":"pw-1"}');
    expect(sm.reads(id)).toBe(1);
  });

  test('serves the cached value for the TTL, then reads again', async () => {
    const id = secret('v1');
    const s = store({ ttlSeconds: 1 });
    for (let i = 0; i < 5; i++) await expect(s.read(id)).resolves.toBe('v1');
    expect(sm.reads(id)).toBe(1);

    sm.put(id, 'v2');
    await expect(s.read(id)).resolves.toBe('v1');
    await sleep(1100);
    await expect(s.read(id)).resolves.toBe('v2');
    expect(sm.reads(id)).toBe(2);
  });

  test('shares one request among concurrent first reads', async () => {
    const id = secret('v1');
    const s = store();
    const values = await Promise.all(Array.from({ length: 20 }, () => s.read(id)));
    expect(new Set(values)).toEqual(new Set(['v1']));
    expect(sm.reads(id)).toBe(1);
  });
});

describe('fresh reads', () => {
  test('read again at once and see a rotated value', async () => {
    const id = secret('old');
    const s = store({ minRefreshIntervalMs: 0 });
    await expect(s.read(id)).resolves.toBe('old');
    sm.put(id, 'new');
    await expect(s.read(id)).resolves.toBe('old');
    await expect(s.read(id, { fresh: true })).resolves.toBe('new');
    await expect(s.read(id)).resolves.toBe('new');
    expect(sm.reads(id)).toBe(2);
  });

  test('return the cached value inside the minimum refresh interval, even in a burst of 50', async () => {
    const id = secret('old');
    const s = store({ minRefreshIntervalMs: 300 });
    await s.read(id);
    sm.put(id, 'new');
    // Inside the interval since the first request: every "fresh" read is a cached one.
    for (let i = 0; i < 50; i++) await expect(s.read(id, { fresh: true })).resolves.toBe('old');
    expect(sm.reads(id)).toBe(1);

    await sleep(350);
    const burst: string[] = [];
    for (let i = 0; i < 50; i++) burst.push(await s.read(id, { fresh: true }));
    expect(new Set(burst)).toEqual(new Set(['new']));
    expect(sm.reads(id)).toBe(2);
  });

  test('that run concurrently share one request', async () => {
    const id = secret('old');
    const s = store({ minRefreshIntervalMs: 0 });
    await s.read(id);
    sm.put(id, 'new');
    const values = await Promise.all(Array.from({ length: 20 }, () => s.read(id, { fresh: true })));
    expect(new Set(values)).toEqual(new Set(['new']));
    expect(sm.reads(id)).toBe(2);
  });

  test('that fail keep serving the cached value while it is within its TTL', async () => {
    const id = secret('still-good-value');
    const s = store({ minRefreshIntervalMs: 0, timeoutMs: 300 });
    await s.read(id);
    sm.behave('down');
    await expect(s.read(id, { fresh: true })).resolves.toBe('still-good-value');
    sm.behave('hang');
    await expect(s.read(id, { fresh: true })).resolves.toBe('still-good-value');

    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', secretId: id, reason: 'InternalServiceError' }),
      expect.objectContaining({ level: 'warn', secretId: id, reason: 'timed out' }),
    ]);
    expect(lines.join('\n')).not.toContain('still-good-value');
  });

  test('that fail serve nothing past the TTL', async () => {
    const id = secret('expired-value');
    const s = store({ ttlSeconds: 0, minRefreshIntervalMs: 0 });
    await expect(s.read(id)).resolves.toBe('expired-value');
    sm.behave('down');
    const error = await unavailable(s.read(id, { fresh: true }));
    expect(error.secretId).toBe(id);
  });
});

describe('failures', () => {
  test('an unknown secret is unavailable, named by id, and not retried', async () => {
    const id = secret();
    const error = await unavailable(store().read(id));
    expect(error.status).toBe(503);
    expect(error.message).toContain(id);
    expect(error.message).toContain('ResourceNotFoundException');
    expect(sm.reads(id)).toBe(1);
  });

  test('a binary secret is unavailable', async () => {
    const id = secret();
    sm.put(id, new Uint8Array([1, 2, 3]));
    const error = await unavailable(store().read(id));
    expect(error.message).toContain('binary');
  });

  test.each([
    { state: 'down', mode: 'down', reason: 'InternalServiceError' },
    { state: 'hanging', mode: 'hang', reason: 'timed out' },
  ] as const)('a store that is $state fails within a bound, logging the secret id and not its value', async ({ mode, reason }) => {
    const id = secret('s3cret-value-never-logged');
    const s = store({ ttlSeconds: 0, timeoutMs: 500 });
    await expect(s.read(id)).resolves.toBe('s3cret-value-never-logged');
    sm.behave(mode);

    const started = performance.now();
    const error = await unavailable(s.read(id));
    const elapsed = performance.now() - started;

    // Two attempts of at most timeoutMs each, plus the SDK's backoff between them.
    expect(elapsed).toBeLessThan(3000);
    expect(error.secretId).toBe(id);
    expect(error.message).toContain(reason);
    expect(sm.reads(id)).toBe(3); // the good read, then maxAttempts: 2
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', secretId: id, reason });
    expect(lines[0]).not.toContain('s3cret-value-never-logged');
  });
});
