-- Up Migration
-- Roles belong to exactly one tenant. Permissions are opaque strings such as
-- `invoices:read` or `iam:*`; the service hands them to the gateway as they are.
CREATE TABLE roles (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name         text        NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$'),
  description  text        NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
  permissions  text[]      NOT NULL DEFAULT '{}' CHECK (array_position(permissions, NULL) IS NULL),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name),
  -- Target of the composite foreign key in subject_roles: a mapping can only
  -- reference a role of its own tenant, enforced by the database.
  UNIQUE (tenant_id, id)
);

INSERT INTO roles (id, tenant_id, name, description, permissions)
VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001',
        'platform-admin', 'Manages every tenant, role, mapping and client.', '{iam:*}');

-- Down Migration
DROP TABLE roles;
