/**
 * The one lock order of every admin write. Two transactions that lock the same rows in
 * different orders can deadlock; PostgreSQL then kills one (40P01) and the caller got a 503.
 * Every use case takes its row locks in this order, each kind sorted, and never goes back to
 * an earlier kind:
 *
 * 0. the Idempotency-Key (mutate claims it first; its scope names the caller, the operation
 *    and the tenant, so two requests that wait on the same key want the same tenant anyway);
 * 1. the tenant: `FOR SHARE` for a write inside it (role, user, client), `FOR NO KEY UPDATE`
 *    to update it, `FOR UPDATE` to delete it. A tenant update or delete so waits for the writes
 *    in flight in that tenant (and they for it): its trigger rewrites every subject_claims row
 *    of the tenant. Writes to the platform tenant take `FOR NO KEY UPDATE` too: they run one at
 *    a time, so two of them cannot each remove "another" platform admin and leave none;
 * 2. roles, by id: the role changed (`FOR NO KEY UPDATE`; `FOR UPDATE` to delete it), or the
 *    roles being assigned to a user or client (`FOR SHARE`) — taken before the subject, because
 *    inserting a subject_roles row checks its role (`FOR KEY SHARE`), and because a role change
 *    and an assignment of that role must not both compute claims from the other's old state;
 * 3. subjects (user mappings, and a client's subject row), by (tenant, subject), `FOR UPDATE`.
 *    A role update or delete locks every subject holding the role, sorted: role.delete.lock_mappings
 *    before it touches them (`FOR UPDATE`), and the read-model triggers' iam_claims_refresh
 *    (`FOR NO KEY UPDATE`, in (tenant, subject) order: one probe per key for a handful of keys,
 *    one sorted statement for a batch; rows this transaction wrote are skipped). Those triggers
 *    take steps 1 and 2 first, sorted: the tenants `FOR SHARE`, and for new mappings their roles
 *    `FOR SHARE` (migrations/1764300000000_set-based-claims.sql, 1764500000000_batch-claims-refresh.sql);
 * 4. the client row, `FOR UPDATE` (lib/adapters/postgres/client-repository.ts takes its subject
 *    row first); the IdP is called only after all of these;
 * 5. what the triggers write: subject_claims rows, each only under its subject's lock (or its
 *    tenant's exclusive lock, for a suspension); then the outbox and audit inserts, which lock
 *    nothing anyone waits for.
 *
 * A deadlock that still happens (a path this order does not cover) is retried once (mutate).
 */
import { PLATFORM_TENANT, type Tenant } from './model.js';
import type { LockMode, PolicyRepositories } from './ports.js';
import { requireTenant } from './tenants.js';

/** Step 1 for a write inside a tenant (see above); `mode` for the tenant's own update or delete. */
export const lockTenant = (tx: Pick<PolicyRepositories, 'tenants'>, slug: string, mode?: LockMode): Promise<Tenant> =>
  requireTenant(tx, slug, { lock: mode ?? (slug === PLATFORM_TENANT ? 'no-key-update' : 'share') });

/** Step 2 for a mapping write: the roles about to be assigned (unknown names are skipped). */
export const lockRoles = (tx: Pick<PolicyRepositories, 'roles'>, tenantId: string, names: readonly string[]): Promise<void> =>
  tx.roles.lockShared(tenantId, [...new Set(names)]);
