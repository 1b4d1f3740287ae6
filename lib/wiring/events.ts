/**
 * The outbox relay's composition: the base runtime plus a JetStream publisher (none without
 * NATS_URL) and the outbox's Postgres side (claiming, the backlog age, housekeeping).
 */
import { jetStreamPublisher } from '../adapters/nats/jetstream-publisher.js';
import { postgresHousekeeping } from '../adapters/postgres/housekeeping.js';
import { postgresOutboxBacklog } from '../adapters/postgres/outbox-backlog.js';
import { postgresRelayOutbox } from '../adapters/postgres/relay-outbox.js';
import { processEnv } from '../config.js';
import type { EventPublisher, Housekeeping, OutboxBacklog, RelayOutbox } from '../events/ports.js';
import { type Env, type Runtime, runtime, startOrExplain } from './base.js';

export interface EventsRuntime extends Runtime {
  /** Undefined without NATS_URL: a stage may run without NATS, its events waiting in the outbox. */
  publisher: EventPublisher | undefined;
  outbox: RelayOutbox;
  backlog: OutboxBacklog;
  housekeeping: Housekeeping;
}

let current: EventsRuntime | undefined;

export function eventsRuntime(env: Env = processEnv()): EventsRuntime {
  current ??= startOrExplain(() => {
    const base = runtime(env);
    return {
      ...base,
      publisher: base.config.nats.url ? publisherFor(base, base.config.nats.url) : undefined,
      outbox: postgresRelayOutbox(base.db),
      backlog: postgresOutboxBacklog(base.db),
      housekeeping: postgresHousekeeping(base.db),
    };
  });
  return current;
}

export function publisherFor({ config, credentials }: Pick<Runtime, 'config' | 'credentials'>, url: string): EventPublisher {
  const { connectTimeoutMs, publishTimeoutMs } = config.nats;
  return jetStreamPublisher({ url, connectTimeoutMs, publishTimeoutMs, name: 'iam-service', credentials: credentials.nats });
}
