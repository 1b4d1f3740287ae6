-- Up Migration
-- Home tenants (issue #11). Subjects are the IdP's global `sub`, and any tenant admin may map any
-- subject into their own tenant. Without a rule, an admin of tenant A who maps a subject of
-- tenant B turns B's "the only tenant" answer (enrich-token without a tenant) into 409
-- tenant-required, and B cannot undo it. The rule (README, "Security"):
--   * a subject's home is the tenant that first mapped it; a subject that is an OAuth client has
--     the tenant that created the client as its home, always (a client belongs to its creator);
--   * only the home tenant changes it: removing the subject clears it, and then the home moves
--     to the tenant where it is a client, else to the one tenant it is left in (several: none);
--   * a tenant that maps a subject that already has a home, or that is in several tenants with
--     none, never becomes its home. When a subject without a home (a race, or the backfill
--     below) is joined by a second tenant, the tenant it was alone in becomes its home, never
--     the newcomer;
--   * enrich-token without a tenant answers the home tenant, else the only tenant, else 409 as
--     before. So nothing that another tenant's admins do changes the answer.
-- Expand-only: a previous release ignores the table and the new column.
CREATE TABLE subject_homes (
  subject    text PRIMARY KEY,
  tenant_id  uuid NOT NULL,
  -- The home is a membership: removing the subject from its home tenant (or deleting the tenant)
  -- removes the home row with it; the delete trigger below then picks the next home, if any.
  FOREIGN KEY (tenant_id, subject) REFERENCES subjects (tenant_id, subject) ON DELETE CASCADE
);

-- enrich-token without a tenant reads `ORDER BY is_home DESC LIMIT 2` from the same index as
-- before: one indexed query, and a subject's rows are few.
ALTER TABLE subject_claims ADD COLUMN is_home boolean NOT NULL DEFAULT false;

-- Whoever writes a subject_claims row (iam_refresh_claims, a tenant suspension, a later
-- migration's version of either), is_home is derived here, so the read model stays exact
-- without any of those functions knowing about homes.
CREATE FUNCTION iam_claims_home() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.is_home := EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = NEW.subject AND h.tenant_id = NEW.tenant_id);
  RETURN NEW;
END;
$$;
CREATE TRIGGER subject_claims_home BEFORE INSERT OR UPDATE ON subject_claims
  FOR EACH ROW EXECUTE FUNCTION iam_claims_home();

-- A home that changes reaches the read model rows of its subject in the same transaction.
CREATE FUNCTION iam_claims_on_homes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE subject_claims c
     SET is_home = EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = c.subject AND h.tenant_id = c.tenant_id)
   WHERE c.subject IN (SELECT subject FROM changed)
     AND c.is_home IS DISTINCT FROM EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = c.subject AND h.tenant_id = c.tenant_id);
  RETURN NULL;
END;
$$;
CREATE TRIGGER subject_homes_insert_claims AFTER INSERT ON subject_homes
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_homes();
CREATE TRIGGER subject_homes_update_claims AFTER UPDATE ON subject_homes
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_homes();
CREATE TRIGGER subject_homes_delete_claims AFTER DELETE ON subject_homes
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION iam_claims_on_homes();

-- New memberships. Two tenants that map the same new subject at once both try to insert its
-- home: the primary key makes the second wait for the first and then do nothing.
CREATE FUNCTION iam_homes_on_subjects_insert() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER subjects_insert_homes AFTER INSERT ON subjects
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION iam_homes_on_subjects_insert();

-- Ended memberships (a user removed, a client deleted, a tenant deleted). The home row usually
-- went with the cascade already; the DELETE makes that independent of trigger order.
CREATE FUNCTION iam_homes_on_subjects_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM subject_homes h USING removed r WHERE h.subject = r.subject AND h.tenant_id = r.tenant_id;
  INSERT INTO subject_homes (subject, tenant_id)
  SELECT k.subject, coalesce(e.client_tenant, e.only_tenant)
    FROM (SELECT DISTINCT subject FROM removed) k
    CROSS JOIN LATERAL (
      SELECT count(*) AS n,
             min(s.tenant_id::text)::uuid AS only_tenant,
             (min(s.tenant_id::text) FILTER (WHERE s.subject_type = 'client'))::uuid AS client_tenant
        FROM subjects s
       WHERE s.subject = k.subject
    ) e
   WHERE e.client_tenant IS NOT NULL OR e.n = 1
  ON CONFLICT (subject) DO NOTHING;
  RETURN NULL;
END;
$$;
CREATE TRIGGER subjects_delete_homes AFTER DELETE ON subjects
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION iam_homes_on_subjects_delete();

-- Backfill: a client's tenant; else the only tenant. A subject already in several tenants (and
-- no client) gets no home, so its answer without a tenant stays 409 as it was.
INSERT INTO subject_homes (subject, tenant_id)
SELECT subject,
       coalesce(min(tenant_id::text) FILTER (WHERE subject_type = 'client'), min(tenant_id::text))::uuid
  FROM subjects
 GROUP BY subject
HAVING count(*) = 1 OR bool_or(subject_type = 'client');

-- Down Migration
DROP TRIGGER subjects_delete_homes ON subjects;
DROP TRIGGER subjects_insert_homes ON subjects;
DROP FUNCTION iam_homes_on_subjects_delete();
DROP FUNCTION iam_homes_on_subjects_insert();
DROP TRIGGER subject_homes_delete_claims ON subject_homes;
DROP TRIGGER subject_homes_update_claims ON subject_homes;
DROP TRIGGER subject_homes_insert_claims ON subject_homes;
DROP FUNCTION iam_claims_on_homes();
DROP TRIGGER subject_claims_home ON subject_claims;
DROP FUNCTION iam_claims_home();
ALTER TABLE subject_claims DROP COLUMN is_home;
DROP TABLE subject_homes;
