-- Up Migration
-- Tenants. The slug is the public, immutable handle used in URLs and in enrich-token requests.
CREATE TABLE tenants (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,63}$'),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The reserved tenant that holds the platform admins. Its id is fixed so that every
-- environment agrees on it; `npm run migrate` maps BOOTSTRAP_ADMIN_SUBJECT into it.
INSERT INTO tenants (id, slug, name)
VALUES ('00000000-0000-4000-8000-000000000001', 'platform', 'Citadel platform');

-- Down Migration
DROP TABLE tenants;
