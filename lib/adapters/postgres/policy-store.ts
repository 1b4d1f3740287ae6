import type { AdminScopeReader, PolicyRepositories, PolicyStore, Repository, StoreConnection } from '../../admin/ports.js';
import { postgresAuditLog } from './audit-log.js';
import { postgresClients } from './client-repository.js';
import type { Database, Queryable } from './database.js';
import { postgresIdempotencyKeys } from './idempotency-keys.js';
import { postgresOutbox } from './outbox.js';
import { postgresRoles } from './role-repository.js';
import { postgresTenants } from './tenant-repository.js';
import { postgresUserMappings } from './user-mapping-repository.js';

const repositories = (db: Queryable): PolicyRepositories => ({
  tenants: postgresTenants(db),
  roles: postgresRoles(db),
  users: postgresUserMappings(db),
  clients: postgresClients(db),
  audit: postgresAuditLog(db),
  outbox: postgresOutbox(db),
  idempotency: postgresIdempotencyKeys(db),
  use: (repository) => repository.build(db as unknown as StoreConnection),
});

/** A resource's repository (lib/admin/ports.ts `Repository`), built on whichever connection the store passes. */
export const postgresRepository = <R>(build: (db: Queryable) => R): Repository<R> => ({
  build: (connection) => build(connection as unknown as Queryable),
});

export function postgresPolicyStore(db: Database): PolicyStore {
  return {
    ...repositories(db),
    transaction: (operation, work, options) => db.transaction(operation, (tx) => work(repositories(tx)), options),
  };
}

/** One query: the tenants where the subject holds `iam:admin` or `iam:*`, and whether it is a platform admin. */
export function postgresAdminScope(db: Queryable): AdminScopeReader {
  return {
    async adminScope(subject) {
      const rows = await db.query<{ slug: string; star: boolean }>(
        'admin_scope',
        `SELECT t.slug, bool_or('iam:*' = ANY (r.permissions)) AS star
           FROM subjects s
           JOIN subject_roles sr ON sr.tenant_id = s.tenant_id AND sr.subject = s.subject
           JOIN roles r ON r.id = sr.role_id
           JOIN tenants t ON t.id = s.tenant_id
          WHERE s.subject = $1 AND t.status = 'active'
            AND r.permissions && ARRAY['iam:admin', 'iam:*']
          GROUP BY t.slug`,
        [subject],
      );
      return {
        platform: rows.some((r) => r.slug === 'platform' && r.star),
        tenants: new Set(rows.map((r) => r.slug)),
      };
    },
  };
}
