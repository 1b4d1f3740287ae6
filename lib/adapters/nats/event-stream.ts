/**
 * The event stream on a NATS server (JetStream manager API over nats.ws): created when no
 * stream captures the events' subjects, compared when one does — never changed, since another
 * team's stream may hold settings for reasons of its own. Only `npm start` calls this: in AWS the
 * stream is infrastructure, and the functions never manage it.
 */
import { connect, type NatsConnection, type StreamInfo, StorageType } from 'nats.ws';
import { EVENT_STREAM } from '../../events/catalog.js';
import type { NatsCredentials, Source } from '../../secrets/credentials.js';
import { ensureGlobalWebSocket } from './websocket.js';

const NANOS_PER_MS = 1_000_000;

export interface EventStreamCheck {
  /** The stream that captures `citadel.iam.>`: ours, or one that existed. */
  stream: string;
  created: boolean;
  /** How an existing stream differs from what the service needs (empty: it fits). */
  differences: string[];
}

export interface EnsureEventStreamOptions {
  url: string;
  connectTimeoutMs: number;
  credentials?: Source<NatsCredentials | undefined> | undefined;
}

export async function ensureEventStream(options: EnsureEventStreamOptions): Promise<EventStreamCheck> {
  ensureGlobalWebSocket();
  const secret = await options.credentials?.();
  const nc: NatsConnection = await connect({
    servers: options.url,
    ...(secret?.token ? { token: secret.token } : {}),
    ...(secret?.user ? { user: secret.user, pass: secret.pass } : {}),
    name: 'iam-service npm start',
    timeout: options.connectTimeoutMs,
    reconnect: false,
  });
  try {
    const jsm = await nc.jetstreamManager({ timeout: options.connectTimeoutMs });
    const [subject] = EVENT_STREAM.subjects;
    const existing = await jsm.streams.list(subject).next();
    const found = existing.find((info) => info.config.name === EVENT_STREAM.name) ?? existing[0];
    if (found) return { stream: found.config.name, created: false, differences: differencesOf(found) };
    await jsm.streams.add({
      name: EVENT_STREAM.name,
      subjects: [...EVENT_STREAM.subjects],
      storage: StorageType.File,
      duplicate_window: EVENT_STREAM.minDuplicateWindowMs * NANOS_PER_MS,
    });
    return { stream: EVENT_STREAM.name, created: true, differences: [] };
  } finally {
    await nc.close();
  }
}

function differencesOf({ config }: StreamInfo): string[] {
  const differences: string[] = [];
  const wanted = EVENT_STREAM.subjects.join(', ');
  if (config.subjects.join(', ') !== wanted) differences.push(`subjects are ${config.subjects.join(', ')} (wanted ${wanted})`);
  if (config.storage !== StorageType.File) differences.push(`storage is ${config.storage} (wanted file: events must survive a server restart)`);
  const windowMs = Math.round(config.duplicate_window / NANOS_PER_MS);
  if (windowMs < EVENT_STREAM.minDuplicateWindowMs) {
    differences.push(`duplicate window is ${windowMs / 1000} s (wanted at least ${EVENT_STREAM.minDuplicateWindowMs / 1000} s: a re-published event would be stored twice)`);
  }
  if (config.no_ack) differences.push('no_ack is set (publishes would never be acknowledged, and the outbox would re-send them)');
  return differences;
}
