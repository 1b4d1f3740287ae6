/**
 * Every admin mutation goes through here: one transaction holds the change, its outbox
 * events, its audit row and, for creates, the idempotency record — they commit together or
 * not at all. Use cases take their row locks in one order (lib/admin/lock-order.ts); a
 * deadlock or serialization failure that still happens re-runs the whole transaction once —
 * idempotency claim, change, events and audit row alike, so nothing is written twice — unless
 * the use case says it can no longer run again (`retry`: it already called the IdP).
 */
import { createHash } from 'node:crypto';
import { AppError, ConflictError } from '../errors.js';
import type { CloudEvent } from '../events/catalog.js';
import type { PolicyRepositories, PolicyStore } from './ports.js';
import { PLATFORM_TENANT, type Tenant } from './model.js';

export interface MutationContext {
  actor: string;
  requestId: string;
  /** Set for creates that carry an Idempotency-Key. */
  idempotency?: { scope: string; key: string; body: unknown } | undefined;
}

/** What If-Match asked for: one of these versions, any version (`*`), or nothing. */
export type IfMatch = readonly number[] | '*' | undefined;

export interface Reply {
  status: number;
  body?: unknown;
  /** Version of the resource in the body, sent as its ETag. */
  version?: number | undefined;
  /** Path of a created resource, sent as Location. */
  location?: string | undefined;
  /** True when this is the stored answer of an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
}

export interface Outcome {
  reply: Reply;
  action: string;
  target: string;
  tenant?: Pick<Tenant, 'id' | 'slug'> | undefined;
  events: CloudEvent[];
}

export class IdempotencyKeyReusedError extends AppError {
  constructor() {
    super(422, 'idempotency-key-reused', 'Unprocessable Content', 'This Idempotency-Key was used with a different request body.');
  }
}

export interface MutationOptions {
  /** Whether the transaction may run again after a lock conflict; by default it may. */
  retry?: () => boolean;
}

export async function mutate(
  deps: { store: PolicyStore; afterCommit?: ((events: readonly CloudEvent[]) => Promise<unknown>) | undefined },
  ctx: MutationContext,
  operation: string,
  work: (tx: PolicyRepositories) => Promise<Outcome>,
  options: MutationOptions = {},
): Promise<Reply> {
  let committed: CloudEvent[] = [];
  const retry = options.retry ?? (() => true);
  const reply = await deps.store.transaction(operation, async (tx) => {
    const idem = ctx.idempotency;
    const hash = idem && createHash('sha256').update(JSON.stringify(idem.body)).digest('base64url');
    if (idem && hash) {
      const earlier = await tx.idempotency.claim(idem.scope, idem.key, hash);
      if (earlier === 'mismatch') throw new IdempotencyKeyReusedError();
      if (earlier) return { ...earlier, replayed: true };
    }
    const outcome = await work(tx);
    // Nobody may remove the last platform admin: the admin API would then lock everyone out.
    if (outcome.tenant?.slug === PLATFORM_TENANT && (await tx.tenants.countPlatformAdmins()) === 0) {
      throw new ConflictError('This change would leave the platform without an admin (iam:* in tenant "platform").', 'last-platform-admin');
    }
    for (const event of outcome.events) await tx.outbox.add(event);
    await tx.audit.append({
      actor: ctx.actor,
      tenantId: outcome.tenant?.id ?? null,
      tenantSlug: outcome.tenant?.slug ?? null,
      action: outcome.action,
      target: outcome.target,
      result: 'success',
      requestId: ctx.requestId,
    });
    if (idem) {
      const { status, body, version, location } = outcome.reply;
      await tx.idempotency.complete(idem.scope, idem.key, { status, body, version, location });
    }
    committed = outcome.events;
    return outcome.reply;
  }, { requestId: ctx.requestId, retry });
  // After the commit, never inside it: NATS must not hold a transaction open, and an event
  // published for a change that then rolled back would be a lie.
  if (committed.length > 0) await deps.afterCommit?.(committed);
  return reply;
}
