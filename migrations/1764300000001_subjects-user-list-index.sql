-- Up Migration
-- The admin user list (lib/adapters/postgres/user-mapping-repository.ts, `user.list`) reads one
-- tenant's users in subject order, a keyset page at a time. Without this index the planner may
-- walk subjects_subject_idx (every tenant's subjects in subject order) and filter by tenant: on a
-- 60,000-user tenant whose subjects sort after the others', page 1 read 103,031 rows and took
-- 80 ms. This one holds exactly the rows and columns the list reads, in its order, so page 1 and
-- page 1,000 are each one index-only range scan of a page's rows (0.5 ms there).
-- Built in the migration's transaction (writes to subjects wait for it: seconds at millions of
-- rows). Expand-only.
CREATE INDEX subjects_user_list_idx ON subjects (tenant_id, subject)
  INCLUDE (subject_type, version, created_at, updated_at)
  WHERE subject_type = 'user';

-- Down Migration
DROP INDEX subjects_user_list_idx;
