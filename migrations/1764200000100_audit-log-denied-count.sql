-- Up Migration
-- Denied requests are counted, not listed one by one: any token the IdP signs can be denied,
-- with a path of its choosing, against any tenant, so one row per denial would let anyone fill
-- any tenant's trail. A denial is one row per (actor, tenant, action) and minute; further
-- denials in that minute add to its `count` (an upsert on the unique index below).
-- `denied_minute` is the minute a denied row counts (NULL on every other row); `count` is 1 on
-- every other row. Only adds: earlier releases still insert (one row per denial) as before.
ALTER TABLE audit_log ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1);
ALTER TABLE audit_log ADD COLUMN denied_minute timestamptz;
-- The upsert's arbiter. coalesce: denials on no tenant, or on a path whose tenant is not a
-- slug, share one bucket (a NULL would make every such row distinct). Partial: rows other than
-- denials are never in it, so it stays as small as the denials of recent minutes and earlier.
CREATE UNIQUE INDEX audit_log_denied_minute_idx
  ON audit_log (actor, (coalesce(tenant_slug, '')), action, denied_minute)
  WHERE denied_minute IS NOT NULL;

-- Down Migration
DROP INDEX audit_log_denied_minute_idx;
ALTER TABLE audit_log DROP COLUMN denied_minute;
ALTER TABLE audit_log DROP COLUMN count;
