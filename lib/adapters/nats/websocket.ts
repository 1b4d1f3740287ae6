/**
 * nats.ws talks through the global `WebSocket`. Node 22 has one; Node 20 (our Lambda
 * runtime) does not, so the `ws` package stands in. Never replaces a WebSocket that exists.
 */
import { WebSocket } from 'ws';

export function ensureGlobalWebSocket(): void {
  const global = globalThis as { WebSocket?: unknown };
  global.WebSocket ??= WebSocket;
}
