/**
 * Scheduled (EventBridge), not HTTP: publishes what the after-commit path could not — e.g.
 * during a NATS outage — oldest first, until the outbox is empty, a publish fails (NATS is
 * still down; the next run retries) or the time budget is spent. Each run first sweeps what is
 * done with: published events past their retention and expired idempotency keys. Each run ends
 * by emitting the age of the oldest event still unpublished (0: none), NATS up or not.
 */
import { type Sweep, sweep } from '../lib/adapters/postgres/housekeeping.js';
import { postgresOutboxBacklog } from '../lib/adapters/postgres/outbox-backlog.js';
import { drainOutbox, type RelayRun, reportBacklog } from '../lib/events/relay.js';
import { eventsRuntime } from '../lib/wiring/events.js';

/** Leaves room before the Lambda timeout for the last batch to finish and commit. */
const SAFETY_MARGIN_MS = 5_000;
const DEFAULT_BUDGET_MS = 20_000;
/** Published events stay this long (JetStream is where consumers read them; this is for audit and replay). */
const KEEP_PUBLISHED_DAYS = 7;

const app = eventsRuntime();
const backlog = postgresOutboxBacklog(app.db);

export type RelayFunctionResult = RelayRun & { swept: Sweep; oldestUnpublishedAgeSeconds: number };

export async function handler(_event?: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<RelayFunctionResult> {
  const swept = await sweep(app.db, { keepPublishedDays: KEEP_PUBLISHED_DAYS, batch: 1_000 });
  if (swept.events > 0 || swept.idempotencyKeys > 0) app.log.info('outbox relay swept old rows', { ...swept });
  const { publisher } = app;
  if (!publisher) {
    // A stage without NATS is configured so on purpose: not an error, and no alarm every minute.
    app.log.info('NATS_URL is not set: events wait in the outbox');
    return { published: 0, failed: 0, batches: 0, swept, oldestUnpublishedAgeSeconds: await reportBacklog({ ...app, backlog }) };
  }
  const remaining = context ? context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS : DEFAULT_BUDGET_MS;
  const run = await drainOutbox({ ...app, publisher }, Math.max(0, Math.min(DEFAULT_BUDGET_MS, remaining)));
  // After the drain: what this run could not publish (NATS down) is what the age measures.
  const oldestUnpublishedAgeSeconds = await reportBacklog({ ...app, backlog });
  app.log.info('outbox relay run', { published: run.published, failed: run.failed, batches: run.batches });
  return { ...run, swept, oldestUnpublishedAgeSeconds };
}
