-- Up Migration
-- The audit trail keeps the tenant's slug beside its id: once a tenant is deleted, its id
-- alone would say nothing to the reader of the trail.
ALTER TABLE audit_log ADD COLUMN tenant_slug text;

-- Down Migration
ALTER TABLE audit_log DROP COLUMN tenant_slug;
