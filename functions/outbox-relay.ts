/**
 * Scheduled (EventBridge), not HTTP: publishes what the after-commit path could not — e.g.
 * during a NATS outage — oldest first, until the outbox is empty, a publish fails (NATS is
 * still down; the next run retries) or the time budget is spent.
 */
import { natsConfig } from '../lib/adapters/nats/nats-config.js';
import { jetStreamPublisher } from '../lib/adapters/nats/jetstream-publisher.js';
import type { EventPublisher } from '../lib/events/publisher.js';
import { relayOutbox, type RelayDeps } from '../lib/events/relay.js';
import { runtime } from '../lib/runtime.js';

const BATCH_SIZE = 100;
/** Leaves room before the Lambda timeout for the last batch to finish and commit. */
const SAFETY_MARGIN_MS = 5_000;
const DEFAULT_BUDGET_MS = 20_000;

export interface RelayRun {
  published: number;
  failed: number;
  batches: number;
}

/** The loop, with its collaborators passed in (tests drive it against real servers). */
export async function drainOutbox(deps: RelayDeps, budgetMs: number, batchSize = BATCH_SIZE): Promise<RelayRun> {
  const deadline = Date.now() + budgetMs;
  const run: RelayRun = { published: 0, failed: 0, batches: 0 };
  while (Date.now() < deadline) {
    const sweep = await relayOutbox({ ...deps, batchSize });
    run.batches += 1;
    run.published += sweep.published;
    run.failed += sweep.failed;
    if (sweep.failed > 0 || sweep.claimed < batchSize) break;
  }
  return run;
}

let publisher: EventPublisher | undefined;

export async function handler(_event?: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<RelayRun> {
  const { db, log } = runtime();
  // Built on first invocation, reused while the container lives; NATS_URL moves to lib/config.ts.
  publisher ??= jetStreamPublisher({ ...natsConfig(), name: 'iam-service.outbox-relay' });
  const remaining = context ? context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS : DEFAULT_BUDGET_MS;
  const run = await drainOutbox({ db, publisher, log }, Math.max(0, Math.min(DEFAULT_BUDGET_MS, remaining)));
  log.info('outbox relay run', { published: run.published, failed: run.failed, batches: run.batches });
  return run;
}
