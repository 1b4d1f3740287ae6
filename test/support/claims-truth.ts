/**
 * The subject_claims read model recomputed from the policy tables, in the read model's own
 * shape: `drift` lists every row where the two disagree (none when the triggers kept up).
 */
import type { Queryable } from '../../lib/adapters/postgres/database.js';

export const TRUTH = `
  SELECT s.tenant_id, s.subject, t.slug AS tenant_slug, t.status AS tenant_status,
         jsonb_build_object(
           'tenant', jsonb_build_object('id', t.id, 'slug', t.slug),
           'status', t.status,
           'subject_type', s.subject_type,
           'roles', coalesce((SELECT jsonb_agg(r.name ORDER BY r.name) FROM subject_roles sr JOIN roles r ON r.id = sr.role_id
                               WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject), '[]'),
           'permissions', coalesce((SELECT jsonb_agg(DISTINCT p ORDER BY p) FROM subject_roles sr JOIN roles r ON r.id = sr.role_id,
                                      unnest(r.permissions) p WHERE sr.tenant_id = s.tenant_id AND sr.subject = s.subject), '[]')) AS claims,
         EXISTS (SELECT 1 FROM subject_homes h WHERE h.subject = s.subject AND h.tenant_id = s.tenant_id) AS is_home
    FROM subjects s JOIN tenants t ON t.id = s.tenant_id`;

export const READ_MODEL = 'SELECT tenant_id, subject, tenant_slug, tenant_status, claims::jsonb AS claims, is_home FROM subject_claims';

/**
 * Subjects whose home breaks the membership rule (migrations/1764200000000_subject-homes.sql):
 * a client whose home is not its creator's tenant, or a subject left in exactly one tenant
 * without that tenant as its home. None when the triggers kept up.
 */
export const HOMELESS = `
  SELECT s.subject FROM subjects s LEFT JOIN subject_homes h ON h.subject = s.subject
   GROUP BY s.subject
  HAVING (count(*) = 1 AND bool_and(h.tenant_id IS DISTINCT FROM s.tenant_id))
      OR bool_or(s.subject_type = 'client' AND h.tenant_id IS DISTINCT FROM s.tenant_id)`;

export const homeDrift = (db: Queryable) => db.query('test.home_drift', HOMELESS);

export const drift = (db: Queryable) => db.query('test.drift', `(${TRUTH} EXCEPT ${READ_MODEL}) UNION ALL (${READ_MODEL} EXCEPT ${TRUTH})`);

/** Both checks at once: the read model's drift from the truth and the subjects the home rule misses. */
export const inconsistencies = async (db: Queryable) => ({ drift: await drift(db), homeless: await homeDrift(db) });
