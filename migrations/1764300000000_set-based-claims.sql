-- Up Migration
-- Set-based maintenance of the subject_claims read model (issue #15). Bulk policy writes ran at
-- about 5,000 memberships/s: every subject_claims row written took a per-row BEFORE trigger
-- (subject_claims_home, an EXISTS on subject_homes), was written up to three times per new
-- membership (the subjects trigger, then the home trigger's is_home update, then the
-- subject_roles trigger), and each refresh locked every subject row, including the rows the
-- writer had just inserted (a WAL record and a dirtied page each), and every tenant once per
-- subject. Now:
--   * is_home is computed by whoever writes the row (iam_claims_refresh here,
--     iam_claims_on_homes of 1764200000000 on a home change); the per-row trigger is gone;
--   * a new membership's home is written before its claims row (the read-model trigger on
--     subjects is named to fire after subjects_insert_homes: same-event triggers fire by name);
--   * a row is rewritten only when it changes, and a subjects or roles UPDATE refreshes only
--     when what the claims show changed (not on a version bump or a description);
--   * locks: each tenant once (FOR SHARE, sorted); on a new mapping its roles (FOR SHARE,
--     sorted, as the admin API does, lib/admin/lock-order.ts, step 2) so a concurrent permission
--     change of one of them waits for us or we for it, whoever writes; the subjects (FOR NO KEY
--     UPDATE, sorted) except those whose current version this transaction wrote: nobody else
--     can refresh those before we commit. NO KEY UPDATE (was FOR UPDATE) still serialises two
--     refreshes of a subject but no longer conflicts with a foreign-key check of a concurrent
--     mapping insert (FOR KEY SHARE), which could deadlock against it.
--   * iam_claims_on_homes probes the read model by subject instead of scanning it, and
--     iam_homes_on_subjects_insert finds a new subject's other memberships by one index probe
--     per subject: its anti-join against the transition table became a nested loop over it
--     (quadratic: 12.4 s for 5,000 new subjects) when the statistics said subjects was small.
-- Cascades (a tenant or a role deleted) still run one statement per deleted parent row
-- (PostgreSQL's referential actions): their triggers are cheap when there is nothing to do.
-- Expand-only: the previous release reads the same table the same way.

-- Room on each page for the in-place (HOT) update of a row whose roles change: a row is first
-- written with its subject, then again with its mappings.
ALTER TABLE subject_claims SET (fillfactor = 85);

DROP TRIGGER subject_claims_home ON subject_claims;
DROP FUNCTION iam_claims_home();

-- Recomputes the claims of the given (tenant, subject) keys, after locking what a concurrent
-- writer of the same policy could change (see above); p_roles are the roles of new mappings.
-- Each lock is a statement of its own, so the recompute (the next statement, with a fresh
-- snapshot under READ COMMITTED) sees what the writer we waited for committed.
CREATE FUNCTION iam_claims_refresh(p_tenants uuid[], p_subjects text[], p_roles uuid[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM 1 FROM tenants WHERE id = ANY (p_tenants) ORDER BY id FOR SHARE;
  IF cardinality(p_roles) > 0 THEN
    PERFORM 1 FROM roles WHERE id = ANY (p_roles) ORDER BY id FOR SHARE;
  END IF;
  -- Sorted keys, then one index probe each (LIMIT keeps the LATERAL a nested loop whatever the
  -- statistics say: a bulk write into a table the planner thinks empty must not scan it per key).
  PERFORM 1
     FROM (SELECT DISTINCT * FROM unnest(p_tenants, p_subjects) ORDER BY 1, 2) AS k(tenant_id, subject)
    CROSS JOIN LATERAL (
      SELECT 1 FROM subjects s
       WHERE s.tenant_id = k.tenant_id AND s.subject = k.subject AND s.xmin <> pg_current_xact_id()::xid
       LIMIT 1 FOR NO KEY UPDATE) AS locked;

  INSERT INTO subject_claims AS c (tenant_id, subject, tenant_slug, tenant_status, claims, is_home)
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
                                     WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject), '[]'))::text,
         EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = s.subject AND h.tenant_id = s.tenant_id)
    FROM (SELECT DISTINCT * FROM unnest(p_tenants, p_subjects)) AS k(tenant_id, subject)
   CROSS JOIN LATERAL (SELECT * FROM subjects s WHERE s.tenant_id = k.tenant_id AND s.subject = k.subject LIMIT 1) AS s
   CROSS JOIN LATERAL (SELECT * FROM tenants t WHERE t.id = s.tenant_id LIMIT 1) AS t
  ON CONFLICT (tenant_id, subject) DO UPDATE
     SET tenant_slug = excluded.tenant_slug, tenant_status = excluded.tenant_status, claims = excluded.claims, is_home = excluded.is_home
   WHERE (c.tenant_slug, c.tenant_status, c.claims, c.is_home)
         IS DISTINCT FROM (excluded.tenant_slug, excluded.tenant_status, excluded.claims, excluded.is_home);
END;
$$;

-- The old entry point (used by 1764000000010's repair and by hand, RUNBOOK) keeps working.
CREATE OR REPLACE FUNCTION iam_refresh_claims(p_tenants uuid[], p_subjects text[]) RETURNS void
LANGUAGE sql VOLATILE AS $$ SELECT iam_claims_refresh(p_tenants, p_subjects, '{}') $$;

-- New memberships, after their homes (this trigger's name sorts after subjects_insert_homes).
CREATE FUNCTION iam_claims_on_subjects_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_claims_refresh(array_agg(tenant_id), array_agg(subject), '{}') FROM added;
  RETURN NULL;
END;
$$;
DROP TRIGGER subjects_insert_claims ON subjects;
CREATE TRIGGER subjects_insert_read_model AFTER INSERT ON subjects
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects_insert();

-- Only subject_type reaches the claims (the admin API bumps `version` on every mapping write).
CREATE FUNCTION iam_claims_on_subjects_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_claims_refresh(array_agg(n.tenant_id), array_agg(n.subject), '{}')
     FROM after n LEFT JOIN before o ON o.tenant_id = n.tenant_id AND o.subject = n.subject
    WHERE o.subject_type IS DISTINCT FROM n.subject_type
   HAVING count(*) > 0;
  RETURN NULL;
END;
$$;
DROP TRIGGER subjects_update_claims ON subjects;
CREATE TRIGGER subjects_update_claims AFTER UPDATE ON subjects
  REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects_update();

-- New mappings lock their roles too (see the header); removed ones need not: a permission
-- change refreshes every subject it still sees holding the role, under that subject's lock.
CREATE FUNCTION iam_claims_on_subject_roles_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_claims_refresh(array_agg(tenant_id), array_agg(subject), (SELECT array_agg(DISTINCT role_id) FROM changed))
     FROM changed;
  RETURN NULL;
END;
$$;
-- A cascade (a subject, role or tenant deleted) runs this once per deleted parent row: it
-- returns at once when none of the subjects is left.
CREATE FUNCTION iam_claims_on_subject_roles_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_claims_refresh(array_agg(c.tenant_id), array_agg(c.subject), '{}')
     FROM changed c
    WHERE EXISTS (SELECT 1 FROM subjects s WHERE s.tenant_id = c.tenant_id AND s.subject = c.subject)
   HAVING count(*) > 0;
  RETURN NULL;
END;
$$;
DROP TRIGGER subject_roles_insert_claims ON subject_roles;
DROP TRIGGER subject_roles_delete_claims ON subject_roles;
CREATE TRIGGER subject_roles_insert_claims AFTER INSERT ON subject_roles
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subject_roles_insert();
CREATE TRIGGER subject_roles_delete_claims AFTER DELETE ON subject_roles
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subject_roles_delete();
DROP FUNCTION iam_claims_on_subjects();

-- A role's new name or permissions reach every subject holding it; a new version or
-- description does not touch the read model.
CREATE OR REPLACE FUNCTION iam_claims_on_roles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_claims_refresh(array_agg(sr.tenant_id), array_agg(sr.subject), '{}')
     FROM subject_roles sr
     JOIN after n ON n.id = sr.role_id
     JOIN before o ON o.id = n.id
    WHERE (o.name, o.permissions) IS DISTINCT FROM (n.name, n.permissions)
   HAVING count(*) > 0;
  RETURN NULL;
END;
$$;
DROP TRIGGER roles_update_claims ON roles;
CREATE TRIGGER roles_update_claims AFTER UPDATE ON roles
  REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_roles();

-- The home rule of 1764200000000 unchanged, with the prior memberships found by one index
-- probe per new subject: its anti-join against the transition table became a nested loop over
-- it (quadratic) whenever the statistics said subjects was small, as in a bulk load.
CREATE OR REPLACE FUNCTION iam_homes_on_subjects_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO subject_homes AS h (subject, tenant_id)
  SELECT DISTINCT ON (subject) subject, tenant_id FROM added WHERE subject_type = 'client' ORDER BY subject, tenant_id
  ON CONFLICT (subject) DO UPDATE SET tenant_id = excluded.tenant_id WHERE h.tenant_id IS DISTINCT FROM excluded.tenant_id;

  INSERT INTO subject_homes (subject, tenant_id)
  SELECT k.subject, CASE WHEN p.n = 0 THEN k.first_added ELSE p.only_tenant END
    FROM (SELECT subject, min(tenant_id::text)::uuid AS first_added, array_agg(tenant_id) AS added_to FROM added GROUP BY subject) k
   CROSS JOIN LATERAL (
     SELECT count(*) AS n, min(s.tenant_id::text)::uuid AS only_tenant
       FROM subjects s
      WHERE s.subject = k.subject AND s.tenant_id <> ALL (k.added_to)) p
   WHERE p.n <= 1
  ON CONFLICT (subject) DO NOTHING;
  RETURN NULL;
END;
$$;

-- A home that changes reaches the claims rows of its subject. One index probe per subject
-- (= ANY on the lookup index's leading column; no sequential scan): the previous semi-join
-- scanned the whole read model once per statement whenever the statistics said it was small,
-- as after a bulk delete, and a home is written for every new subject.
CREATE OR REPLACE FUNCTION iam_claims_on_homes() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
  UPDATE subject_claims c
     SET is_home = EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = c.subject AND h.tenant_id = c.tenant_id)
   WHERE c.subject = ANY (ARRAY(SELECT DISTINCT subject FROM changed))
     AND c.is_home IS DISTINCT FROM EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = c.subject AND h.tenant_id = c.tenant_id);
  RETURN NULL;
END;
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION iam_claims_on_homes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE subject_claims c
     SET is_home = EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = c.subject AND h.tenant_id = c.tenant_id)
   WHERE c.subject IN (SELECT subject FROM changed)
     AND c.is_home IS DISTINCT FROM EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = c.subject AND h.tenant_id = c.tenant_id);
  RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION iam_homes_on_subjects_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO subject_homes AS h (subject, tenant_id)
  SELECT DISTINCT ON (subject) subject, tenant_id FROM added WHERE subject_type = 'client' ORDER BY subject, tenant_id
  ON CONFLICT (subject) DO UPDATE SET tenant_id = excluded.tenant_id WHERE h.tenant_id IS DISTINCT FROM excluded.tenant_id;

  -- Set-based, so a bulk insert (a seed, a policy apply) joins once instead of scanning the
  -- transition table once per subject: `prior` is each new subject's memberships that this
  -- statement did not add (an anti-join the planner can hash).
  WITH k AS (SELECT subject, min(tenant_id::text)::uuid AS first_added FROM added GROUP BY subject),
  prior AS (
    SELECT s.subject, count(*) AS n, min(s.tenant_id::text)::uuid AS only_tenant
      FROM subjects s
      JOIN k ON k.subject = s.subject
      LEFT JOIN added a ON a.tenant_id = s.tenant_id AND a.subject = s.subject
     WHERE a.subject IS NULL
     GROUP BY s.subject
  )
  INSERT INTO subject_homes (subject, tenant_id)
  SELECT k.subject, CASE WHEN p.n IS NULL THEN k.first_added ELSE p.only_tenant END
    FROM k LEFT JOIN prior p ON p.subject = k.subject
   WHERE coalesce(p.n, 0) <= 1
  ON CONFLICT (subject) DO NOTHING;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION iam_claims_on_roles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_refresh_claims(array_agg(sr.tenant_id), array_agg(sr.subject))
     FROM subject_roles sr JOIN changed c ON c.id = sr.role_id;
  RETURN NULL;
END;
$$;
DROP TRIGGER roles_update_claims ON roles;
CREATE TRIGGER roles_update_claims AFTER UPDATE ON roles
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_roles();

DROP TRIGGER subject_roles_insert_claims ON subject_roles;
DROP TRIGGER subject_roles_delete_claims ON subject_roles;
DROP TRIGGER subjects_update_claims ON subjects;
DROP TRIGGER subjects_insert_read_model ON subjects;
DROP FUNCTION iam_claims_on_subject_roles_delete();
DROP FUNCTION iam_claims_on_subject_roles_insert();
DROP FUNCTION iam_claims_on_subjects_update();
DROP FUNCTION iam_claims_on_subjects_insert();
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
CREATE TRIGGER subject_roles_insert_claims AFTER INSERT ON subject_roles
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects();
CREATE TRIGGER subject_roles_delete_claims AFTER DELETE ON subject_roles
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_subjects();

-- iam_refresh_claims as 1764000000010 left it (it writes is_home through the trigger below).
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
DROP FUNCTION iam_claims_refresh(uuid[], text[], uuid[]);

CREATE FUNCTION iam_claims_home() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.is_home := EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = NEW.subject AND h.tenant_id = NEW.tenant_id);
  RETURN NEW;
END;
$$;
CREATE TRIGGER subject_claims_home BEFORE INSERT OR UPDATE ON subject_claims
  FOR EACH ROW EXECUTE FUNCTION iam_claims_home();
ALTER TABLE subject_claims RESET (fillfactor);
