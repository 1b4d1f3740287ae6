/**
 * The IdP health store on the single `idp_health` row (see its migration). The lease is one
 * conditional UPDATE … RETURNING: concurrent UPDATEs of the row queue on its row lock and each
 * re-checks the condition against the row the previous one committed, so exactly one sees the
 * report stale and the lease free. Nothing outlives the statement (no advisory lock, no open
 * transaction), so RDS Proxy never pins a connection for it.
 */
import type { HealthReport } from '../../health/idp-health.js';
import type { IdpHealthStore, StoredReport } from '../../health/ports.js';
import type { Queryable } from './database.js';

interface Row {
  report: HealthReport;
  checked_at: Date;
  age: number;
  [key: string]: unknown;
}

const stored = (row: Row): StoredReport => ({ report: row.report, checkedAt: row.checked_at, ageSeconds: row.age });

export function postgresIdpHealthStore(db: Queryable): IdpHealthStore {
  return {
    async latest() {
      const [row] = await db.query<Row & { probing: boolean }>(
        'idp_health.latest',
        `SELECT report, checked_at,
                round(extract(epoch FROM now() - checked_at), 1)::float8 AS age,
                coalesce(probing_until > now(), false) AS probing
           FROM idp_health WHERE id`,
      );
      return { stored: row?.report ? stored(row) : undefined, probing: row?.probing ?? false };
    },
    async claimProbe({ maxAgeSeconds, leaseSeconds }) {
      const taken = await db.query(
        'idp_health.claim_probe',
        `UPDATE idp_health SET probing_until = now() + make_interval(secs => $2)
          WHERE id
            AND (checked_at IS NULL OR checked_at < now() - make_interval(secs => $1))
            AND (probing_until IS NULL OR probing_until <= now())
         RETURNING true AS taken`,
        [maxAgeSeconds, leaseSeconds],
      );
      return taken.length > 0;
    },
    async record(report) {
      // An upsert: the migration seeds the row, but a probe must never fail for want of it.
      const [row] = await db.query<Row>(
        'idp_health.record',
        `INSERT INTO idp_health (id, report, checked_at) VALUES (true, $1, now())
         ON CONFLICT (id) DO UPDATE SET report = EXCLUDED.report, checked_at = EXCLUDED.checked_at, probing_until = NULL
         RETURNING report, checked_at, 0::float8 AS age`,
        [JSON.stringify(report)],
      );
      return stored(row!);
    },
  };
}
