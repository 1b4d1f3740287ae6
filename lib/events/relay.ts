/**
 * Moves events from the outbox to the broker. Two paths, both at-least-once (the event id is
 * the broker's de-duplication key, so a repeat is harmless):
 *
 * - `publishAfterCommit`: right after a change commits, its events are published with a short
 *   bound, so consumers usually see them within milliseconds. It never throws: a NATS outage
 *   must not fail a request that has already committed.
 * - `relayOutbox`: the scheduled sweep that publishes whatever is still unpublished, oldest
 *   first, and is what guarantees no event is lost.
 *
 * Two relays never publish the same row at once, and the fast path skips rows a relay holds
 * (lib/events/ports.ts: RelayOutbox).
 */
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CloudEvent } from './catalog.js';
import type { EventPublisher, OutboxBacklog, RelayOutbox } from './ports.js';

export interface RelayDeps {
  outbox: RelayOutbox;
  publisher: EventPublisher;
  log: Logger;
}

export interface RelayResult {
  published: number;
  /** Events the broker did not take (at most one: the sweep stops there to keep order). */
  failed: number;
  /** Rows this sweep looked at; fewer than the batch size means the outbox is drained. */
  claimed: number;
}

/**
 * One sweep of at most `batchSize` events. The transaction stays open while publishing — each
 * publish is bounded by the publisher's timeout — so the rows stay locked against another
 * relay until they are marked.
 */
export async function relayOutbox({ outbox, publisher, log, batchSize }: RelayDeps & { batchSize: number }): Promise<RelayResult> {
  return outbox.claim(batchSize, async ({ entries: rows, attempted, markPublished }) => {
    const published: string[] = [];
    let failed = 0;
    for (const { id, event } of rows) {
      try {
        await publisher.publish([event]);
        published.push(id);
      } catch (error) {
        // Stop here: publishing later events first would reorder them for consumers.
        failed = 1;
        await attempted(id);
        log.warn('outbox relay could not publish; will retry', { event_id: id, type: event.type, pending: rows.length - published.length }, error);
        break;
      }
    }
    if (published.length > 0) await markPublished(published);
    if (published.length > 0) log.info('outbox relay published events', { published: published.length });
    return { published: published.length, failed, claimed: rows.length };
  });
}

export interface AfterCommitOptions {
  /** Upper bound on the time the caller waits, publishing and marking included. */
  budgetMs?: number;
}

/**
 * Publishes events that were just committed and marks them published. Whatever fails or
 * runs out of time is logged and left for the relay; this never throws and never waits longer
 * than `budgetMs` (200 ms by default). Returns how many events were marked published.
 */
export async function publishAfterCommit(
  { outbox, publisher, log }: RelayDeps,
  events: readonly CloudEvent[],
  { budgetMs = 200 }: AfterCommitOptions = {},
): Promise<number> {
  if (events.length === 0) return 0;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), budgetMs);
  });
  const work = async (): Promise<number> => {
    const published: string[] = [];
    try {
      for (const event of events) {
        await publisher.publish([event]);
        published.push(event.id);
      }
    } catch (error) {
      log.warn('events left for the outbox relay', { unpublished: events.length - published.length }, error);
    }
    if (published.length === 0) return 0;
    // A relay sweep holding these rows marks them itself; never wait for it.
    return outbox.markPublishedUnlessClaimed(published);
  };
  try {
    const outcome = await Promise.race([work(), expired]);
    if (outcome === 'expired') {
      log.warn('publishing after commit ran out of time; the outbox relay will finish', { events: events.length, budget_ms: budgetMs });
      return 0;
    }
    return outcome;
  } catch (error) {
    log.warn('could not mark events published after commit; the relay will republish them', { events: events.length }, error);
    return 0;
  } finally {
    clearTimeout(timer);
  }
}

export interface RelayRun {
  published: number;
  failed: number;
  batches: number;
}

/** Relays batch after batch until the outbox is empty, a publish fails, or the budget is spent. */
export async function drainOutbox(deps: RelayDeps, budgetMs: number, batchSize = 100): Promise<RelayRun> {
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

/**
 * Emits `outbox_oldest_unpublished_age_seconds` once per relay run, after it: whatever the run
 * could not publish (NATS down, no NATS configured, a stream missing) shows as a growing age,
 * which is what the NATS-outage alarm watches — the relay itself does not fail in an outage.
 */
export async function reportBacklog({ backlog, metrics }: { backlog: OutboxBacklog; metrics: Pick<Metrics, 'outboxOldestUnpublishedAge'> }): Promise<number> {
  const seconds = await backlog.oldestUnpublishedAgeSeconds();
  metrics.outboxOldestUnpublishedAge(seconds);
  return seconds;
}
