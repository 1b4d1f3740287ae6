-- Up Migration
-- Optimistic concurrency for the admin API: every update bumps `version`, which is the
-- resource's ETag; PATCH with a stale If-Match is refused (412) instead of silently
-- overwriting another admin's change. Added with a default: the previous release keeps working.
ALTER TABLE tenants  ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE roles    ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE subjects ADD COLUMN version integer NOT NULL DEFAULT 1;

-- Down Migration
ALTER TABLE subjects DROP COLUMN version;
ALTER TABLE roles    DROP COLUMN version;
ALTER TABLE tenants  DROP COLUMN version;
