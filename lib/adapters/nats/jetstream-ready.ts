/**
 * Waits until a nats-server answers JetStream requests at `url` (ws://…): what a freshly started
 * server needs before a stream can be created or a message published. Used by npm start's own
 * nats-server (local/local-nats.ts) and the tests' (test/support/nats-server.ts); each caller
 * words the failure, since only it knows the process and its output.
 */
import { connect } from 'nats.ws';
import { ensureGlobalWebSocket } from './websocket.js';

export type JetStreamWait = { ready: true } | { ready: false; exited: true } | { ready: false; exited: false; last: unknown };

export async function waitForJetStream(url: string, exited: () => boolean, timeoutMs = 10_000): Promise<JetStreamWait> {
  ensureGlobalWebSocket();
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (exited()) return { ready: false, exited: true };
    try {
      const nc = await connect({ servers: url, timeout: 500, reconnect: false });
      try {
        await (await nc.jetstreamManager()).getAccountInfo();
        return { ready: true };
      } finally {
        await nc.close();
      }
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { ready: false, exited: false, last };
}
