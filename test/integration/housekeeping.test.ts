/**
 * The outbox relay's housekeeping against a real PostgreSQL: published events past their
 * retention and expired idempotency keys go; unpublished events (however old) and live keys
 * stay; a run deletes at most one batch.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { sweep } from '../../lib/adapters/postgres/housekeeping.js';
import { testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

describe('housekeeping of the outbox and the idempotency keys', () => {
  let db: Database;
  beforeAll(async () => {
    db = testDatabase(await createTestDatabase());
  });
  afterAll(() => db.end());

  const event = (id: string, createdDaysAgo: number, publishedDaysAgo: number | null) =>
    db.query(
      'test.outbox',
      `INSERT INTO outbox (id, subject, event, created_at, published_at)
       VALUES ($1, 'citadel.iam.tenant.created', '{}', now() - make_interval(days => $2), CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(days => $3::int) END)`,
      [id, createdDaysAgo, publishedDaysAgo],
    );
  const key = (name: string, expiresInHours: number) =>
    db.query(
      'test.idempotency',
      "INSERT INTO idempotency_keys (scope, key, request_hash, expires_at) VALUES ('s', $1, 'h', now() + make_interval(hours => $2))",
      [name, expiresInHours],
    );
  const remaining = async () => ({
    events: (await db.query<{ id: string }>('test.ids', 'SELECT id::text FROM outbox ORDER BY id')).map((r) => r.id),
    keys: (await db.query<{ key: string }>('test.keys', 'SELECT key FROM idempotency_keys ORDER BY key')).map((r) => r.key),
  });

  it('removes what is done with and keeps everything still in use', async () => {
    await event('00000000-0000-4000-8000-000000000001', 30, 29); // published a month ago: goes
    await event('00000000-0000-4000-8000-000000000002', 30, null); // never published: stays, however old
    await event('00000000-0000-4000-8000-000000000003', 2, 1); // published yesterday: stays
    await key('expired', -1);
    await key('live', 23);

    expect(await sweep(db, { keepPublishedDays: 7, batch: 100 })).toEqual({ events: 1, idempotencyKeys: 1 });
    expect(await remaining()).toEqual({
      events: ['00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003'],
      keys: ['live'],
    });
    expect(await sweep(db, { keepPublishedDays: 7, batch: 100 })).toEqual({ events: 0, idempotencyKeys: 0 });
  });

  it('deletes at most one batch per run', async () => {
    for (let i = 10; i < 15; i += 1) await event(`00000000-0000-4000-8000-0000000000${i}`, 20, 20);
    expect((await sweep(db, { keepPublishedDays: 7, batch: 2 })).events).toBe(2);
    expect((await sweep(db, { keepPublishedDays: 7, batch: 10 })).events).toBe(3);
  });
});
