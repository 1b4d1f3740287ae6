/**
 * The demo policy `npm start` seeds: two tenants, a few roles, and subjects that show each
 * enrich-token answer (one tenant, several tenants). Idempotent: a second start changes nothing.
 */
import type { Database } from '../lib/adapters/postgres/database.js';

export const DEMO = { subject: 'user-alice', tenant: 'acme', multiTenantSubject: 'user-bob' } as const;

const tenants = [
  { slug: 'acme', name: 'Acme Corporation' },
  { slug: 'globex', name: 'Globex' },
];
const roles = [
  { tenant: 'acme', name: 'billing-admin', description: 'Manages invoices and payments.', permissions: ['invoices:read', 'invoices:write', 'payments:read'] },
  { tenant: 'acme', name: 'viewer', description: 'Reads invoices and reports.', permissions: ['invoices:read', 'reports:read'] },
  { tenant: 'acme', name: 'support', description: 'Handles support tickets.', permissions: ['tickets:read', 'tickets:write'] },
  { tenant: 'globex', name: 'viewer', description: 'Reads reports.', permissions: ['reports:read'] },
];
const mappings = [
  { tenant: 'acme', subject: DEMO.subject, roles: ['billing-admin', 'viewer'] },
  { tenant: 'acme', subject: DEMO.multiTenantSubject, roles: ['support'] },
  { tenant: 'globex', subject: DEMO.multiTenantSubject, roles: ['viewer'] },
];

export async function seedDemoPolicy(db: Database): Promise<void> {
  await db.transaction('seed_demo', async (tx) => {
    for (const t of tenants) {
      await tx.query('seed.tenant', 'INSERT INTO tenants (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING', [t.slug, t.name]);
    }
    for (const r of roles) {
      await tx.query(
        'seed.role',
        `INSERT INTO roles (tenant_id, name, description, permissions)
         SELECT id, $2, $3, $4 FROM tenants WHERE slug = $1
         ON CONFLICT (tenant_id, name) DO NOTHING`,
        [r.tenant, r.name, r.description, r.permissions],
      );
    }
    for (const m of mappings) {
      await tx.query(
        'seed.subject',
        `INSERT INTO subjects (tenant_id, subject) SELECT id, $2 FROM tenants WHERE slug = $1
         ON CONFLICT (tenant_id, subject) DO NOTHING`,
        [m.tenant, m.subject],
      );
      await tx.query(
        'seed.subject_roles',
        `INSERT INTO subject_roles (tenant_id, subject, role_id)
         SELECT r.tenant_id, $2, r.id FROM roles r JOIN tenants t ON t.id = r.tenant_id
          WHERE t.slug = $1 AND r.name = ANY ($3)
         ON CONFLICT DO NOTHING`,
        [m.tenant, m.subject, m.roles],
      );
    }
    // user-bob's home is acme (mapped there first). A .local database seeded before home tenants
    // existed has him with none (the migration keeps a multi-tenant subject's 409): give it the
    // same demo as a fresh one. A no-op once set.
    await tx.query(
      'seed.home',
      `INSERT INTO subject_homes (subject, tenant_id) SELECT $1, id FROM tenants WHERE slug = $2
       ON CONFLICT (subject) DO NOTHING`,
      [DEMO.multiTenantSubject, DEMO.tenant],
    );
  });
}
