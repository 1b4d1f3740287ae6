import type { Outbox } from '../../admin/ports.js';
import type { Queryable } from './database.js';

export function postgresOutbox(db: Queryable): Outbox {
  return {
    async add(event) {
      await db.query('outbox.add', 'INSERT INTO outbox (id, subject, event) VALUES ($1, $2, $3)', [event.id, event.type, JSON.stringify(event)]);
    },
  };
}
