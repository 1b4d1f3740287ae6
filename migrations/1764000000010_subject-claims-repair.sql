-- Up Migration
-- Repair: 1763900000002_subject-claims.sql was edited after it shipped (commit dc11776 changed
-- what d578f93 had created). A database that ran the FIRST version has
--   * subject_claims.subject_type (text NOT NULL) and subject_claims.claims as jsonb holding only
--     {"roles", "permissions"}, where enrich-token now JSON.parses the whole answer from a text
--     column ({"tenant", "status", "subject_type", "roles", "permissions"});
--   * iam_refresh_claims writing that old shape, and iam_claims_on_tenants copying the slug
--     instead of patching "status" into the claims.
-- This brings such a database to what the current file creates and is a no-op on one that ran
-- the current file (the functions are replaced by identical ones; the rest is skipped).
-- Not a contract migration: it narrows only what the first version created, which only code
-- built before 1763900000003 (a contract) used — a rollback there is refused anyway.
-- Migrations are never edited once merged: migrations/checksums.txt now enforces it.

CREATE OR REPLACE FUNCTION iam_refresh_claims(p_tenants uuid[], p_subjects text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1
     FROM subjects s
     JOIN unnest(p_tenants, p_subjects) AS k(tenant_id, subject) ON s.tenant_id = k.tenant_id AND s.subject = k.subject
     JOIN tenants t ON t.id = s.tenant_id
    ORDER BY s.tenant_id, s.subject
      FOR SHARE OF t FOR UPDATE OF s;

  INSERT INTO subject_claims AS c (tenant_id, subject, tenant_slug, tenant_status, claims)
  SELECT s.tenant_id, s.subject, t.slug, t.status,
         jsonb_build_object(
           'tenant', jsonb_build_object('id', t.id, 'slug', t.slug),
           'status', t.status,
           'subject_type', s.subject_type,
           'roles', coalesce((SELECT jsonb_agg(r.name ORDER BY r.name)
                                FROM subject_roles sr JOIN roles r ON r.id = sr.role_id
                               WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject), '[]'),
           'permissions', coalesce((SELECT jsonb_agg(DISTINCT p ORDER BY p)
                                      FROM subject_roles sr JOIN roles r ON r.id = sr.role_id
                                      CROSS JOIN LATERAL unnest(r.permissions) AS p
                                     WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject), '[]'))::text
    FROM subjects s
    JOIN (SELECT DISTINCT * FROM unnest(p_tenants, p_subjects)) AS k(tenant_id, subject)
      ON s.tenant_id = k.tenant_id AND s.subject = k.subject
    JOIN tenants t ON t.id = s.tenant_id
  ON CONFLICT (tenant_id, subject) DO UPDATE
     SET tenant_slug = excluded.tenant_slug, tenant_status = excluded.tenant_status, claims = excluded.claims;
END;
$$;

CREATE OR REPLACE FUNCTION iam_claims_on_tenants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE subject_claims c
     SET tenant_status = t.status,
         claims = jsonb_set(c.claims::jsonb, '{status}', to_jsonb(t.status))::text
    FROM changed t
   WHERE c.tenant_id = t.id AND c.tenant_status IS DISTINCT FROM t.status;
  RETURN NULL;
END;
$$;

-- Only a first-version database has subject_type: reshape it and recompute every row (in this
-- migration's transaction, so enrich-token never reads a half-converted table).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = 'subject_claims' AND column_name = 'subject_type') THEN
    ALTER TABLE subject_claims DROP COLUMN subject_type;
    ALTER TABLE subject_claims ALTER COLUMN claims TYPE text USING claims::text;
    PERFORM iam_refresh_claims(array_agg(tenant_id), array_agg(subject)) FROM subjects;
  END IF;
END;
$$;

-- Down Migration
-- Nothing to undo: the result is what 1763900000002_subject-claims.sql creates today.
SELECT 1;
