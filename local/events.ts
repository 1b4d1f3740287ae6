/**
 * Events under `npm start`: with NATS_URL (or IAM_LOCAL_NATS=1, which runs a nats-server of its
 * own), the event stream is created when missing and checked when present, and the outbox is
 * relayed every few seconds, as the scheduled relay does in AWS. Without either, events wait in
 * the outbox.
 */
import type { Logger } from '../lib/observability/logger.js';
import { EVENT_STREAM } from '../lib/events/catalog.js';
import { oneLine } from './start-errors.js';

export interface EventsInfo {
  nats_url: string;
  /** Started by npm start (IAM_LOCAL_NATS=1), stopped with it. */
  local_server: boolean;
  /** The stream that keeps the events, and what npm start found. */
  stream: string;
  status: 'created' | 'exists' | 'differs' | 'unreachable';
  detail?: string;
}

type Env = Record<string, string | undefined>;

/** Checks (or creates) the stream, then relays the outbox every 5 s. */
export async function startOutboxRelay(env: Env, log: Logger, localServer: boolean): Promise<{ info: EventsInfo; stop: () => Promise<void> }> {
  const { eventsRuntime } = await import('../lib/wiring/events.js');
  const { drainOutbox } = await import('../lib/events/relay.js');
  const { ensureEventStream } = await import('../lib/adapters/nats/event-stream.js');
  const app = eventsRuntime(env);
  const url = app.config.nats.url!; // called only with NATS_URL set
  const publisher = app.publisher!;
  const info: EventsInfo = { nats_url: url, local_server: localServer, stream: EVENT_STREAM.name, status: 'unreachable' };
  const where = { nats_host: new URL(url).host };
  try {
    const check = await ensureEventStream({ url, connectTimeoutMs: app.config.nats.connectTimeoutMs, credentials: app.credentials.nats });
    info.stream = check.stream;
    if (check.created) {
      info.status = 'created';
      const window = EVENT_STREAM.minDuplicateWindowMs / 1000;
      log.info(`created JetStream stream ${check.stream} (subjects ${EVENT_STREAM.subjects.join(', ')}, file storage, duplicate window ${window} s)`, where);
    } else if (check.differences.length > 0) {
      info.status = 'differs';
      info.detail = check.differences.join('; ');
      log.warn(`JetStream stream ${check.stream} differs from what the service needs, left as it is: ${info.detail}`, where);
    } else {
      info.status = 'exists';
      log.info(`JetStream stream ${check.stream} is in place`, where);
    }
  } catch (error) {
    info.detail = oneLine(error);
    log.warn(`NATS at ${url} is unreachable (${info.detail}): events wait in the outbox until it answers`, where);
  }
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = drainOutbox({ ...app, publisher }, 5_000).catch((error) => log.warn('outbox relay run failed', {}, error));
  }, 5_000);
  log.info('publishing events to NATS', where);
  return {
    info,
    stop: async () => {
      clearInterval(timer);
      await running;
      await publisher.close();
    },
  };
}
