import type { IdempotencyKeys, StoredResponse } from '../../admin/ports.js';
import type { Queryable } from './database.js';

interface KeyRow extends Record<string, unknown> {
  request_hash: string;
  status: number | null;
  response: unknown;
}

export function postgresIdempotencyKeys(db: Queryable): IdempotencyKeys {
  return {
    async claim(scope, key, requestHash) {
      // A concurrent request with the same key waits here on the primary key until the first
      // one commits (then replays its response) or rolls back (then proceeds as new).
      const [claimed] = await db.query(
        'idempotency.claim',
        `INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, status = NULL,
                response = NULL, created_at = now(), expires_at = now() + interval '24 hours'
           WHERE idempotency_keys.expires_at < now()
         RETURNING 1`,
        [scope, key, requestHash],
      );
      if (claimed) return undefined;
      const [row] = await db.query<KeyRow>(
        'idempotency.get',
        'SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
        [scope, key],
      );
      if (!row || row.request_hash !== requestHash) return 'mismatch';
      const stored = (row.response ?? {}) as Omit<StoredResponse, 'status'>;
      return { status: row.status ?? 200, body: stored.body, version: stored.version, location: stored.location };
    },
    async complete(scope, key, { status, ...rest }) {
      await db.query(
        'idempotency.complete',
        'UPDATE idempotency_keys SET status = $3, response = $4 WHERE scope = $1 AND key = $2',
        [scope, key, status, JSON.stringify(rest)],
      );
    },
  };
}
