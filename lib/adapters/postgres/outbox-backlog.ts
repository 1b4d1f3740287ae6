/**
 * How far the outbox is behind: the age of its oldest unpublished event. `min(created_at)` over
 * the partial index `outbox_unpublished_idx` (created_at WHERE published_at IS NULL) reads one
 * index entry, however large the table or the backlog.
 */
import type { OutboxBacklog } from '../../events/ports.js';
import type { Queryable } from './database.js';

export function postgresOutboxBacklog(db: Queryable): OutboxBacklog {
  return {
    async oldestUnpublishedAgeSeconds() {
      const [row] = await db.query<{ age: number }>(
        'outbox.oldest_unpublished_age',
        `SELECT coalesce(round(extract(epoch FROM now() - min(created_at)), 3), 0)::float8 AS age
           FROM outbox WHERE published_at IS NULL`,
      );
      // now() is the statement's transaction start; never report a negative age.
      return Math.max(0, row!.age);
    },
  };
}
