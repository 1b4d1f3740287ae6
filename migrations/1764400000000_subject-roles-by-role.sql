-- Up Migration
-- Who holds a permission (GET /tenants/{tenant}/permissions/{permission}/subjects) reads each
-- granting role's subjects in subject order, one keyset page at a time: (role_id, subject)
-- answers that from the index alone, however many subjects the tenant has. Expand only: the
-- (role_id) index it makes redundant stays until a contract migration drops it.
CREATE INDEX subject_roles_role_subject_idx ON subject_roles (role_id, subject);

-- Down Migration
DROP INDEX subject_roles_role_subject_idx;
