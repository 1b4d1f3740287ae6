-- Up Migration
-- Bulk policy writes (issue #15): less work per membership in the read model's statement-level
-- maintenance of 1764300000000.
--   * New memberships skip the recompute (iam_claims_on_subjects_insert, below): they hold no
--     roles yet and have no claims row, so their rows come from the inserted rows and their
--     tenants alone, with no lock, subjects or subject_roles probe per key.
--   * A recompute of more than 64 keys (iam_claims_refresh_batch) locks each kind (tenants,
--     then the new mappings' roles, then the subjects this transaction did not write) by one
--     sorted statement: the same rows, modes and order as the per-key path (lib/admin/
--     lock-order.ts, steps 1–3). It reads each key's subject, tenant, sorted role ids and home
--     by one index probe each, and builds the roles and permissions JSON once per distinct
--     role set instead of by two subqueries per key. The probes stay LATERAL … LIMIT 1 on
--     purpose: rows this transaction wrote are not in the statistics, and the planner then
--     takes the batch's joins for a few rows. A hash-join/aggregate form of this statement
--     became a nested loop over the batch (quadratic: 149 s for the 203,030 mappings of
--     100,000 memberships).
--     Its statements are planned for each batch (force_custom_plan): a cached generic plan
--     assumes 100 keys whatever the batch holds.
--   * A handful of keys (one admin write) keeps the per-key path of 1764300000000, unchanged
--     (renamed iam_claims_refresh_keys).
-- Expand-only: no table or column changes; whatever calls iam_claims_refresh calls it as before.

-- iam_claims_refresh keeps its name (every trigger calls it) and picks the path by batch size.
ALTER FUNCTION iam_claims_refresh(uuid[], text[], uuid[]) RENAME TO iam_claims_refresh_keys;
-- Its plans do not depend on the keys' count (LATERAL … LIMIT 1 probes): one generic plan,
-- instead of a custom plan made for every call (2 ms of planning per admin write here, as the
-- generic plan's estimate of 100 keys always costs more than a custom plan for one key).
ALTER FUNCTION iam_claims_refresh_keys(uuid[], text[], uuid[]) SET plan_cache_mode = force_generic_plan;
CREATE FUNCTION iam_claims_refresh(p_tenants uuid[], p_subjects text[], p_roles uuid[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET jit = off AS $$
BEGIN
  IF cardinality(p_subjects) > 64 THEN
    PERFORM iam_claims_refresh_batch(p_tenants, p_subjects, p_roles);
  ELSE
    PERFORM iam_claims_refresh_keys(p_tenants, p_subjects, p_roles);
  END IF;
END;
$$;

-- The path for a batch (see the header). Same locks, same rows written, same JSON text.
CREATE FUNCTION iam_claims_refresh_batch(p_tenants uuid[], p_subjects text[], p_roles uuid[]) RETURNS void
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_custom_plan AS $$
BEGIN
  PERFORM 1 FROM tenants WHERE id IN (SELECT unnest(p_tenants)) ORDER BY id FOR SHARE;
  IF cardinality(p_roles) > 0 THEN
    PERFORM 1 FROM roles WHERE id IN (SELECT unnest(p_roles)) ORDER BY id FOR SHARE;
  END IF;
  -- Rows are locked in the order the sort returns them.
  PERFORM 1 FROM subjects s
   WHERE (s.tenant_id, s.subject) IN (SELECT * FROM unnest(p_tenants, p_subjects))
     AND s.xmin <> pg_current_xact_id()::xid
   ORDER BY s.tenant_id, s.subject
     FOR NO KEY UPDATE;

  -- One row per key that still exists: its subject, tenant, sorted role ids and home, each
  -- found by an index probe (LATERAL … LIMIT 1 keeps those probes whatever the statistics
  -- say: rows this transaction wrote are not in them, and a join the planner thinks small
  -- becomes a nested loop over the whole batch, quadratic).
  WITH k AS MATERIALIZED (
    SELECT s.tenant_id, s.subject, s.subject_type, t.slug, t.status, held.role_ids,
           EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = s.subject AND h.tenant_id = s.tenant_id) AS is_home
      FROM (SELECT DISTINCT * FROM unnest(p_tenants, p_subjects)) AS k(tenant_id, subject)
     CROSS JOIN LATERAL (SELECT * FROM subjects s WHERE s.tenant_id = k.tenant_id AND s.subject = k.subject LIMIT 1) AS s
     CROSS JOIN LATERAL (SELECT * FROM tenants t WHERE t.id = s.tenant_id LIMIT 1) AS t
     CROSS JOIN LATERAL (SELECT array_agg(sr.role_id ORDER BY sr.role_id) AS role_ids
                           FROM subject_roles sr WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject) AS held),
  -- The roles and permissions JSON of each distinct role set, once.
  grants AS (
    SELECT g.role_ids,
           (SELECT jsonb_agg(r.name ORDER BY r.name) FROM roles r WHERE r.id = ANY (g.role_ids)) AS roles,
           coalesce((SELECT jsonb_agg(DISTINCT p ORDER BY p)
                       FROM roles r CROSS JOIN LATERAL unnest(r.permissions) AS p
                      WHERE r.id = ANY (g.role_ids)), '[]') AS permissions
      FROM (SELECT DISTINCT role_ids FROM k WHERE role_ids IS NOT NULL) g)
  INSERT INTO subject_claims AS c (tenant_id, subject, tenant_slug, tenant_status, claims, is_home)
  SELECT k.tenant_id, k.subject, k.slug, k.status,
         jsonb_build_object(
           'tenant', jsonb_build_object('id', k.tenant_id, 'slug', k.slug),
           'status', k.status,
           'subject_type', k.subject_type,
           'roles', coalesce(g.roles, '[]'),
           'permissions', coalesce(g.permissions, '[]'))::text,
         k.is_home
    FROM k LEFT JOIN grants g ON g.role_ids = k.role_ids
  ON CONFLICT (tenant_id, subject) DO UPDATE
     SET tenant_slug = excluded.tenant_slug, tenant_status = excluded.tenant_status, claims = excluded.claims, is_home = excluded.is_home
   WHERE (c.tenant_slug, c.tenant_status, c.claims, c.is_home)
         IS DISTINCT FROM (excluded.tenant_slug, excluded.tenant_status, excluded.claims, excluded.is_home);
END;
$$;

-- New memberships hold no roles yet (a mapping needs its subject row first) and have no claims
-- row (a subject deleted earlier took its row along), so their claims are computed from the
-- inserted rows and their tenants alone: no probe of subjects, subject_roles or locks on rows
-- nobody else can see. Their homes are written already (subjects_insert_homes fires first).
-- A trigger's plans are cached by the session with the first statement's transition-table size:
-- index probes (= ANY, LATERAL … LIMIT 1) keep them right for the next statement's size too
-- (a plan made for 100,000 new rows hashed all of subject_homes for each one-row insert).
CREATE OR REPLACE FUNCTION iam_claims_on_subjects_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
  PERFORM 1 FROM tenants WHERE id = ANY (ARRAY(SELECT DISTINCT tenant_id FROM added)) ORDER BY id FOR SHARE;
  INSERT INTO subject_claims AS c (tenant_id, subject, tenant_slug, tenant_status, claims, is_home)
  SELECT a.tenant_id, a.subject, t.slug, t.status,
         jsonb_build_object(
           'tenant', jsonb_build_object('id', t.id, 'slug', t.slug),
           'status', t.status,
           'subject_type', a.subject_type,
           'roles', '[]'::jsonb,
           'permissions', '[]'::jsonb)::text,
         h.home IS NOT NULL
    FROM added a
   CROSS JOIN LATERAL (SELECT * FROM tenants t WHERE t.id = a.tenant_id LIMIT 1) AS t
    LEFT JOIN LATERAL (SELECT true AS home FROM subject_homes h WHERE h.subject = a.subject AND h.tenant_id = a.tenant_id LIMIT 1) AS h ON true
  ON CONFLICT (tenant_id, subject) DO UPDATE
     SET tenant_slug = excluded.tenant_slug, tenant_status = excluded.tenant_status, claims = excluded.claims, is_home = excluded.is_home;
  RETURN NULL;
END;
$$;

-- No JIT compilation in the read model's bulk path: a statement over a big batch is estimated
-- above jit_above_cost, and the compile (12 ms for 10,000 keys, more with inlining) was paid
-- again on every later statement that reused its cached plan, one-row inserts included.
-- (iam_claims_refresh's setting covers the two paths it calls.)
ALTER FUNCTION iam_homes_on_subjects_insert() SET jit = off;
ALTER FUNCTION iam_claims_on_homes() SET jit = off;

-- Down Migration
ALTER FUNCTION iam_claims_on_homes() RESET jit;
ALTER FUNCTION iam_homes_on_subjects_insert() RESET jit;
-- The functions as 1764300000000 left them.
DROP FUNCTION iam_claims_refresh(uuid[], text[], uuid[]);
ALTER FUNCTION iam_claims_refresh_keys(uuid[], text[], uuid[]) RESET plan_cache_mode;
ALTER FUNCTION iam_claims_refresh_keys(uuid[], text[], uuid[]) RENAME TO iam_claims_refresh;
CREATE OR REPLACE FUNCTION iam_claims_on_subjects_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM iam_claims_refresh(array_agg(tenant_id), array_agg(subject), '{}') FROM added;
  RETURN NULL;
END;
$$;
DROP FUNCTION iam_claims_refresh_batch(uuid[], text[], uuid[]);
