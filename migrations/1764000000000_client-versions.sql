-- Up Migration
-- Optimistic concurrency for clients, like tenants, roles and subjects (ETag "v<version>"),
-- and the index behind a tenant's client list (keyset on client_id). Expand only: the
-- previous version neither reads nor writes these.
ALTER TABLE clients ADD COLUMN version integer NOT NULL DEFAULT 1;
CREATE INDEX clients_tenant_client_id ON clients (tenant_id, client_id);

-- Down Migration
DROP INDEX clients_tenant_client_id;
ALTER TABLE clients DROP COLUMN version;
