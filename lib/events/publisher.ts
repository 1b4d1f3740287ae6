/**
 * The port through which domain events leave the service. The outbox relay and the
 * after-commit fast path depend on this, never on a NATS client, so the transport (and a
 * move from nats.ws to nats.js v3) stays inside lib/adapters/nats.
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
