-- Up Migration
-- The IdP health probe's latest report, one row for the whole fleet: the scheduled probe
-- writes it every minute and GET /system/idp-health reads it, so callers never multiply the
-- calls to R-Auth. `probing_until` is a lease: when the report is older than the route
-- accepts, the one caller whose conditional UPDATE sets it probes, and the others keep serving
-- the stored report. A lease, not an advisory lock or a held transaction: those are session
-- state, which RDS Proxy would pin. A lease whose holder died simply expires.
CREATE TABLE idp_health (
  -- Always true: the primary key and the CHECK together allow exactly one row.
  id             boolean     PRIMARY KEY DEFAULT true CHECK (id),
  report         jsonb,
  checked_at     timestamptz,
  probing_until  timestamptz,
  CHECK ((report IS NULL) = (checked_at IS NULL))
);
-- The row exists from the start (no report yet), so taking the lease is a plain UPDATE.
INSERT INTO idp_health (id) VALUES (true);

-- Down Migration
DROP TABLE idp_health;
