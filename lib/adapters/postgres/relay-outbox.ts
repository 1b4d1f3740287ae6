/** The outbox table as the relay sees it (lib/events/ports.ts: RelayOutbox). */
import type { CloudEvent } from '../../events/catalog.js';
import type { RelayOutbox } from '../../events/ports.js';
import type { Database } from './database.js';

export function postgresRelayOutbox(db: Database): RelayOutbox {
  return {
    claim: (limit, work) =>
      db.transaction('outbox.relay', async (tx) => {
        // `created_at` is the transaction's start, shared by every event of one change; the
        // event's own `time` then keeps them in the order they were made.
        const entries = await tx.query<{ id: string; event: CloudEvent }>(
          'outbox.claim',
          `SELECT id, event FROM outbox WHERE published_at IS NULL
            ORDER BY created_at, event->>'time', id LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [limit],
        );
        return work({
          entries,
          attempted: async (id) => {
            await tx.query('outbox.attempt', 'UPDATE outbox SET attempts = attempts + 1 WHERE id = $1', [id]);
          },
          markPublished: async (ids) => {
            await tx.query('outbox.mark_published', 'UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [ids]);
          },
        });
      }),
    async markPublishedUnlessClaimed(ids) {
      // SKIP LOCKED: a relay sweep holding these rows marks them itself.
      const marked = await db.query(
        'outbox.mark_after_commit',
        `UPDATE outbox SET published_at = now() WHERE id IN (
           SELECT id FROM outbox WHERE id = ANY($1::uuid[]) AND published_at IS NULL FOR UPDATE SKIP LOCKED
         ) RETURNING id`,
        [ids],
      );
      return marked.length;
    },
  };
}
