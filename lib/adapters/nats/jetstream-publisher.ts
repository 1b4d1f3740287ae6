/**
 * Publishes CloudEvents to JetStream over the NATS websocket listener (nats.ws). Subject =
 * event type, payload = the CloudEvent JSON, Nats-Msg-Id = event id, so a repeat within the
 * stream's duplicate window is dropped by the server: the outbox may publish at-least-once.
 *
 * The connection is opened on first use and reused for the container's life. It never
 * reconnects in the background: a Lambda container is frozen between invocations, and a
 * reconnect loop would only queue publishes behind a dead socket. A dropped connection is
 * noticed (closed), and the next publish opens a fresh one, bounded by the connect timeout.
 */
import { connect, type NatsConnection } from 'nats.ws';
import type { CloudEvent } from '../../events/catalog.js';
import { EventPublishError, type EventPublisher } from '../../events/ports.js';
import type { NatsCredentials, Source } from '../../secrets/credentials.js';
import { ensureGlobalWebSocket } from './websocket.js';

export interface JetStreamPublisherOptions {
  url: string;
  connectTimeoutMs: number;
  /** Per event: how long to wait for the stream's acknowledgement. */
  publishTimeoutMs: number;
  /** Shown in the server's connection list. */
  name?: string;
  /** Token or user/password (Secrets Manager in AWS); read again once when the server refuses them. */
  credentials?: Source<NatsCredentials | undefined> | undefined;
}

const refused = (error: unknown) => /authorization violation|authentication/i.test(error instanceof Error ? error.message : String(error));

const encoder = new TextEncoder();

export function jetStreamPublisher(options: JetStreamPublisherOptions): EventPublisher {
  let current: Promise<NatsConnection> | undefined;

  const open = async (): Promise<NatsConnection> => {
    try {
      return await dial(false);
    } catch (error) {
      if (!options.credentials || !refused(error)) throw error;
      return dial(true); // rotated: read the secret again, once
    }
  };

  const dial = async (fresh: boolean): Promise<NatsConnection> => {
    ensureGlobalWebSocket();
    const secret = await options.credentials?.({ fresh });
    const attempt = connect({
      servers: options.url,
      ...(secret?.token ? { token: secret.token } : {}),
      ...(secret?.user ? { user: secret.user, pass: secret.pass } : {}),
      name: options.name ?? 'iam-service',
      timeout: options.connectTimeoutMs,
      reconnect: false,
      maxReconnectAttempts: 0,
      waitOnFirstConnect: false,
    });
    // nats.ws's own `timeout` covers the handshake; this guard also covers a socket that never
    // opens, so a caller always gets an answer within the bound. A connection that arrives
    // after the caller gave up is closed, not leaked.
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection to NATS within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
    });
    try {
      const nc = await Promise.race([attempt, expired]);
      void nc.closed().then(() => forget(nc));
      return nc;
    } catch (error) {
      void attempt.then((late) => late.close()).catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };

  let opened: NatsConnection | undefined;
  const forget = (nc: NatsConnection) => {
    if (opened === nc) {
      opened = undefined;
      current = undefined;
    }
  };

  const connection = (): Promise<NatsConnection> => {
    if (opened?.isClosed()) forget(opened);
    current ??= open().then(
      (nc) => (opened = nc),
      (error: unknown) => {
        current = undefined;
        throw error;
      },
    );
    return current;
  };

  return {
    async publish(events: readonly CloudEvent[]) {
      if (events.length === 0) return;
      let nc: NatsConnection;
      try {
        nc = await connection();
      } catch (error) {
        throw new EventPublishError('NATS is unreachable', events[0]?.id, error);
      }
      const js = nc.jetstream({ timeout: options.publishTimeoutMs });
      for (const event of events) {
        try {
          await js.publish(event.type, encoder.encode(JSON.stringify(event)), { msgID: event.id, timeout: options.publishTimeoutMs });
        } catch (error) {
          throw new EventPublishError(`JetStream did not acknowledge event ${event.id}`, event.id, error);
        }
      }
    },
    async close() {
      const pending = current;
      current = undefined;
      opened = undefined;
      if (!pending) return;
      const nc = await pending.catch(() => undefined);
      if (nc && !nc.isClosed()) await nc.close();
    },
  };
}
