/**
 * What moving events out needs from outside: the broker (EventPublisher; the relay and the
 * after-commit fast path never see a NATS client, so the transport — and a move from nats.ws to
 * nats.js v3 — stays inside lib/adapters/nats) and the outbox table as the relay sees it (its
 * SQL stays inside lib/adapters/postgres). Writing to the outbox is the admin store's
 * (lib/admin/ports.ts: Outbox), in the same transaction as the change.
 */
import type { CloudEvent } from './catalog.js';

export interface EventPublisher {
  /**
   * Publishes the events in order, each one durably (acknowledged by the broker). Throws at
   * the first event that is not acknowledged; the ones before it may have been published.
   * Publishing an event twice is harmless: its `id` de-duplicates it downstream.
   */
  publish(events: readonly CloudEvent[]): Promise<void>;
  /** Closes the connection, if any; the publisher may be used again afterwards. */
  close(): Promise<void>;
}

/** The broker did not acknowledge an event (unreachable, timed out, or refused it). */
export class EventPublishError extends Error {
  readonly eventId: string | undefined;
  constructor(message: string, eventId: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'EventPublishError';
    this.eventId = eventId;
  }
}

/** An unpublished event as the relay claims it: the outbox row's id and the event. */
export interface OutboxEntry {
  id: string;
  event: CloudEvent;
}

/** A batch claimed by the relay; its rows stay locked until the batch's transaction ends. */
export interface ClaimedBatch {
  /** Oldest first: the order of the changes, then of each change's events. */
  entries: readonly OutboxEntry[];
  /** Counts a failed publish of this row. */
  attempted(id: string): Promise<void>;
  markPublished(ids: readonly string[]): Promise<void>;
}

/**
 * The outbox as the relay sees it. Concurrency uses only row locks inside short transactions
 * (`FOR UPDATE SKIP LOCKED`): no advisory locks or LISTEN, which would pin RDS Proxy connections.
 */
export interface RelayOutbox {
  /**
   * Claims at most `limit` unpublished events, skipping rows another relay holds, and runs
   * `work` on them in one transaction: the rows stay locked until it commits.
   */
  claim<T>(limit: number, work: (batch: ClaimedBatch) => Promise<T>): Promise<T>;
  /**
   * Marks events published right after their commit; rows a relay holds are skipped (it marks
   * them itself), never waited for. Returns how many were marked.
   */
  markPublishedUnlessClaimed(ids: readonly string[]): Promise<number>;
}

/** How far behind the outbox is. */
export interface OutboxBacklog {
  /** Seconds since the oldest unpublished event was written; 0 when every event is published. */
  oldestUnpublishedAgeSeconds(): Promise<number>;
}

export interface Sweep {
  events: number;
  idempotencyKeys: number;
}

/**
 * Keeps the bookkeeping tables from growing forever: published outbox events past their
 * retention and expired idempotency keys, at most `batch` of each per call.
 */
export interface Housekeeping {
  sweep(options: { keepPublishedDays: number; batch: number }): Promise<Sweep>;
}
