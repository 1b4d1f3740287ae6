/** The outbox relay's composition: the base runtime plus a JetStream publisher (NATS_URL required). */
import { jetStreamPublisher } from './adapters/nats/jetstream-publisher.js';
import { processEnv, requireNatsUrl } from './config.js';
import type { EventPublisher } from './events/publisher.js';
import { type Env, type Runtime, runtime, startOrExplain } from './runtime.js';

export interface EventsRuntime extends Runtime {
  publisher: EventPublisher;
}

let current: EventsRuntime | undefined;

export function eventsRuntime(env: Env = processEnv()): EventsRuntime {
  current ??= startOrExplain(() => {
    const base = runtime(env);
    return { ...base, publisher: publisherFor(base, requireNatsUrl(base.config)) };
  });
  return current;
}

export function publisherFor({ config, credentials }: Pick<Runtime, 'config' | 'credentials'>, url: string): EventPublisher {
  const { connectTimeoutMs, publishTimeoutMs } = config.nats;
  return jetStreamPublisher({ url, connectTimeoutMs, publishTimeoutMs, name: 'iam-service', credentials: credentials.nats });
}
