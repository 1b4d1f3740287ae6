/**
 * Keeps the bookkeeping tables from growing forever: published outbox events past their
 * retention (consumers read from JetStream, not from here) and expired idempotency keys. Runs in
 * small batches so one run never holds long locks; the next run continues
 * (lib/events/ports.ts: Housekeeping).
 */
import type { Housekeeping, Sweep } from '../../events/ports.js';
import type { Queryable } from './database.js';

export function postgresHousekeeping(db: Queryable): Housekeeping {
  return { sweep: (options) => sweep(db, options) };
}

export async function sweep(db: Queryable, options: { keepPublishedDays: number; batch: number }): Promise<Sweep> {
  const events = await db.query<{ n: number }>(
    'housekeeping.outbox',
    `WITH old AS (SELECT id FROM outbox WHERE published_at < now() - make_interval(days => $1) LIMIT $2)
     , gone AS (DELETE FROM outbox o USING old WHERE o.id = old.id RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [options.keepPublishedDays, options.batch],
  );
  const keys = await db.query<{ n: number }>(
    'housekeeping.idempotency_keys',
    `WITH old AS (SELECT scope, key FROM idempotency_keys WHERE expires_at < now() LIMIT $1)
     , gone AS (DELETE FROM idempotency_keys k USING old WHERE k.scope = old.scope AND k.key = old.key RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [options.batch],
  );
  return { events: events[0]!.n, idempotencyKeys: keys[0]!.n };
}
