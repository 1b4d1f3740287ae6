-- Up Migration
-- enrich-token's read model: one precomputed row per (tenant, subject) with everything the
-- gateway gets, so the hot path is one indexed single-row SELECT — as cheap as the floor — with
-- no named statements (those pin RDS Proxy connections). Triggers keep it current on every
-- policy write, whoever makes it, in the writer's own transaction: a suspension or revocation
-- is visible to the next enrichment.
CREATE TABLE subject_claims (
  tenant_id      uuid   NOT NULL,
  subject        text   NOT NULL,
  tenant_slug    text   NOT NULL,
  tenant_status  text   NOT NULL,
  subject_type   text   NOT NULL,
  -- {"roles": [...], "permissions": [...]}: sorted, de-duplicated, parsed with one JSON.parse.
  claims         jsonb  NOT NULL,
  PRIMARY KEY (tenant_id, subject),
  FOREIGN KEY (tenant_id, subject) REFERENCES subjects (tenant_id, subject) ON DELETE CASCADE
);
-- The lookup: by subject alone (tenant omitted) or by subject and tenant slug.
CREATE UNIQUE INDEX subject_claims_lookup_idx ON subject_claims (subject, tenant_slug);

-- Recomputes the claims of the given subjects. It first locks their tenants (shared) and
-- subject rows, in a statement of its own: a concurrent writer of the same policy then waits,
-- and the recompute (the next statement, with a fresh snapshot) sees what it committed.
CREATE FUNCTION iam_refresh_claims(p_tenants uuid[], p_subjects text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1
     FROM subjects s
     JOIN unnest(p_tenants, p_subjects) AS k(tenant_id, subject) ON s.tenant_id = k.tenant_id AND s.subject = k.subject
     JOIN tenants t ON t.id = s.tenant_id
    ORDER BY s.tenant_id, s.subject
      FOR SHARE OF t FOR UPDATE OF s;

  INSERT INTO subject_claims AS c (tenant_id, subject, tenant_slug, tenant_status, subject_type, claims)
  SELECT s.tenant_id, s.subject, t.slug, t.status, s.subject_type,
         jsonb_build_object(
           'roles', coalesce((SELECT jsonb_agg(r.name ORDER BY r.name)
                                FROM subject_roles sr JOIN roles r ON r.id = sr.role_id
                               WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject), '[]'),
           'permissions', coalesce((SELECT jsonb_agg(DISTINCT p ORDER BY p)
                                      FROM subject_roles sr JOIN roles r ON r.id = sr.role_id
                                      CROSS JOIN LATERAL unnest(r.permissions) AS p
                                     WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject), '[]'))
    FROM subjects s
    JOIN (SELECT DISTINCT * FROM unnest(p_tenants, p_subjects)) AS k(tenant_id, subject)
      ON s.tenant_id = k.tenant_id AND s.subject = k.subject
    JOIN tenants t ON t.id = s.tenant_id
  ON CONFLICT (tenant_id, subject) DO UPDATE
     SET tenant_slug = excluded.tenant_slug, tenant_status = excluded.tenant_status,
         subject_type = excluded.subject_type, claims = excluded.claims;
END;
$$;

CREATE FUNCTION iam_claims_on_subjects() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_refresh_claims(array_agg(tenant_id), array_agg(subject)) FROM changed;
  RETURN NULL;
END;
$$;
CREATE TRIGGER subjects_insert_claims AFTER INSERT ON subjects
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects();
CREATE TRIGGER subjects_update_claims AFTER UPDATE ON subjects
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects();

-- subject_roles changes (including cascades from a deleted role) refresh their subjects.
CREATE TRIGGER subject_roles_insert_claims AFTER INSERT ON subject_roles
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects();
CREATE TRIGGER subject_roles_delete_claims AFTER DELETE ON subject_roles
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects();

-- A role's new name or permissions reach every subject holding it.
CREATE FUNCTION iam_claims_on_roles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_refresh_claims(array_agg(sr.tenant_id), array_agg(sr.subject))
     FROM subject_roles sr JOIN changed c ON c.id = sr.role_id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER roles_update_claims AFTER UPDATE ON roles
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_roles();

-- Suspending or resuming a tenant reaches all of its subjects at once.
CREATE FUNCTION iam_claims_on_tenants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE subject_claims c SET tenant_status = t.status, tenant_slug = t.slug
    FROM changed t
   WHERE c.tenant_id = t.id AND (c.tenant_status IS DISTINCT FROM t.status OR c.tenant_slug IS DISTINCT FROM t.slug);
  RETURN NULL;
END;
$$;
CREATE TRIGGER tenants_update_claims AFTER UPDATE ON tenants
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_tenants();

-- Backfill what exists.
SELECT iam_refresh_claims(array_agg(tenant_id), array_agg(subject)) FROM subjects;

-- Down Migration
DROP TRIGGER tenants_update_claims ON tenants;
DROP TRIGGER roles_update_claims ON roles;
DROP TRIGGER subject_roles_delete_claims ON subject_roles;
DROP TRIGGER subject_roles_insert_claims ON subject_roles;
DROP TRIGGER subjects_update_claims ON subjects;
DROP TRIGGER subjects_insert_claims ON subjects;
DROP FUNCTION iam_claims_on_tenants();
DROP FUNCTION iam_claims_on_roles();
DROP FUNCTION iam_claims_on_subjects();
DROP FUNCTION iam_refresh_claims(uuid[], text[]);
DROP TABLE subject_claims;
