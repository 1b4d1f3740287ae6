/** Home tenants in tests (migrations/1764200000000_subject-homes.sql). */
import type { Queryable } from '../../lib/adapters/postgres/database.js';

/** The subject as one that was in several tenants before homes existed: no home (its answer without a tenant is 409). */
export async function forgetHome(db: Queryable, subject: string): Promise<void> {
  await db.query('fixture.forget_home', 'DELETE FROM subject_homes WHERE subject = $1', [subject]);
}

/** The slug of the subject's home tenant, or undefined. */
export async function homeOf(db: Queryable, subject: string): Promise<string | undefined> {
  const [row] = await db.query<{ slug: string }>(
    'fixture.home_of',
    'SELECT t.slug FROM subject_homes h JOIN tenants t ON t.id = h.tenant_id WHERE h.subject = $1',
    [subject],
  );
  return row?.slug;
}
