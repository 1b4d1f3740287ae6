-- Up Migration
-- A subject is the IdP's `sub` as seen inside one tenant: a user, or an OAuth client
-- registered through this service (machine tokens are enriched like user tokens).
-- One subject may belong to several tenants.
CREATE TABLE subjects (
  tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  subject       text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  subject_type  text        NOT NULL DEFAULT 'user' CHECK (subject_type IN ('user', 'client')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, subject)
);
-- enrich-token without a tenant looks a subject up across tenants.
CREATE INDEX subjects_subject_idx ON subjects (subject);

CREATE TABLE subject_roles (
  tenant_id  uuid NOT NULL,
  subject    text NOT NULL,
  role_id    uuid NOT NULL,
  PRIMARY KEY (tenant_id, subject, role_id),
  FOREIGN KEY (tenant_id, subject) REFERENCES subjects (tenant_id, subject) ON DELETE CASCADE,
  -- Deleting a role removes it from every mapping.
  FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX subject_roles_role_idx ON subject_roles (role_id);

-- Down Migration
DROP TABLE subject_roles;
DROP TABLE subjects;
