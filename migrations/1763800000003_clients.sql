-- Up Migration
-- OAuth2 clients registered in R-Auth through this service. A client's roles live in
-- subject_roles under subject = client_id (subject_type 'client'), so enrich-token needs
-- no second code path for machine tokens. Client secrets are never stored; the RFC 7592
-- registration access token is stored encrypted (AES-256-GCM, key from Secrets Manager).
CREATE TABLE clients (
  id                          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id                   uuid        NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
  client_id                   text        NOT NULL UNIQUE,
  client_name                 text        NOT NULL,
  grant_types                 text[]      NOT NULL DEFAULT '{}',
  redirect_uris               text[]      NOT NULL DEFAULT '{}',
  scope                       text        NOT NULL DEFAULT '',
  token_endpoint_auth_method  text        NOT NULL DEFAULT 'client_secret_basic',
  -- 'pending' rows exist only between the IdP call and the commit; reconcile repairs them.
  status                      text        NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active', 'deleting')),
  registration_client_uri     text,
  registration_token_enc      bytea,
  created_by                  text        NOT NULL,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, client_id) REFERENCES subjects (tenant_id, subject) DEFERRABLE INITIALLY DEFERRED
);

-- Down Migration
DROP TABLE clients;
