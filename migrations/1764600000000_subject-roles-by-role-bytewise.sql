-- Up Migration
-- The read model's triggers look up a subject's mappings by (tenant_id, subject), the primary
-- key. When the statistics say subject_roles is empty while its pages are not (an ANALYZE after
-- a purge, before VACUUM gave the pages back: RUNBOOK, "Policy writes crawl after a purge"), every
-- index looks free to the planner, and it took (role_id, subject) for those lookups with
-- `subject = …` as the only index condition: a scan of the whole index per key, quadratic in a
-- bulk write (3,091 new memberships: 7.9 s in the mappings' trigger instead of 0.23 s).
-- Who-has keeps its index, in byte order: `subject COLLATE "C"` never matches a `subject = …`
-- of the default collation, so only the primary key can serve the triggers' lookups, whatever
-- the statistics say (same case: 0.41 s). lib/adapters/postgres/access-reader.ts pages in that
-- order. The (role_id) index goes too: this one leads with role_id as well (the cascade of a
-- role's deletion, the refresh of a role's holders).
-- The batch refresh (1764500000000) reads by index probes only; with no sequential scan to fall
-- back to, a subject_homes the statistics call empty is probed too, not scanned per key.
-- Expand-only for running code: no release names an index (an older release's who-has query
-- still runs, sorting each granting role's holders instead of reading them in order).
CREATE INDEX subject_roles_role_subject_bytes_idx ON subject_roles (role_id, subject COLLATE "C");
DROP INDEX subject_roles_role_subject_idx;
DROP INDEX subject_roles_role_idx;
ALTER FUNCTION iam_claims_refresh_batch(uuid[], text[], uuid[]) SET enable_seqscan = off;

-- Down Migration
ALTER FUNCTION iam_claims_refresh_batch(uuid[], text[], uuid[]) RESET enable_seqscan;
CREATE INDEX subject_roles_role_idx ON subject_roles (role_id);
CREATE INDEX subject_roles_role_subject_idx ON subject_roles (role_id, subject);
DROP INDEX subject_roles_role_subject_bytes_idx;
