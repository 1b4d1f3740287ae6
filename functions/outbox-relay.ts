/**
 * Scheduled (EventBridge), not HTTP: publishes what the after-commit path could not — e.g.
 * during a NATS outage — oldest first, until the outbox is empty, a publish fails (NATS is
 * still down; the next run retries) or the time budget is spent. Each run first sweeps what is
 * done with: published events past their retention and expired idempotency keys. Each run ends
 * by emitting the age of the oldest event still unpublished (0: none), NATS up or not.
 */
import type { Sweep } from '../lib/events/ports.js';
import { drainOutbox, type RelayRun, reportBacklog } from '../lib/events/relay.js';
import { eventFunction } from '../lib/observability/event-function.js';
import { eventsRuntime } from '../lib/wiring/events.js';

/** Leaves room before the Lambda timeout for the last batch to finish and commit. */
const SAFETY_MARGIN_MS = 5_000;
const DEFAULT_BUDGET_MS = 20_000;
/** Published events stay this long (JetStream is where consumers read them; this is for audit and replay). */
const KEEP_PUBLISHED_DAYS = 7;

const app = eventsRuntime();

export type RelayFunctionResult = RelayRun & { swept: Sweep; oldestUnpublishedAgeSeconds: number };

export const handler = eventFunction<unknown, RelayFunctionResult>(app, { name: 'outbox-relay' }, async (_event, context) => {
  const run = { ...app, log: context.log };
  const swept = await app.housekeeping.sweep({ keepPublishedDays: KEEP_PUBLISHED_DAYS, batch: 1_000 });
  if (swept.events > 0 || swept.idempotencyKeys > 0) run.log.info('outbox relay swept old rows', { ...swept });
  const { publisher } = app;
  if (!publisher) {
    // A stage without NATS is configured so on purpose: not an error, and no alarm every minute.
    run.log.info('NATS_URL is not set: events wait in the outbox');
    return { published: 0, failed: 0, batches: 0, swept, oldestUnpublishedAgeSeconds: await reportBacklog(run) };
  }
  const remaining = context.getRemainingTimeInMillis ? context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS : DEFAULT_BUDGET_MS;
  const drained = await drainOutbox({ ...run, publisher }, Math.max(0, Math.min(DEFAULT_BUDGET_MS, remaining)));
  // After the drain: what this run could not publish (NATS down) is what the age measures.
  const oldestUnpublishedAgeSeconds = await reportBacklog(run);
  run.log.info('outbox relay run', { published: drained.published, failed: drained.failed, batches: drained.batches });
  return { ...drained, swept, oldestUnpublishedAgeSeconds };
});
