/**
 * NATS settings read from the environment. Temporary: lib/config.ts is the one module meant
 * to read `process.env`, and these keys move there (NATS_URL, NATS_CONNECT_TIMEOUT_MS,
 * NATS_PUBLISH_TIMEOUT_MS) — until then they are parsed here, failing with a ConfigError that
 * names the variable, as config.ts does.
 */
import { ConfigError, type FieldIssue } from '../../errors.js';

export interface NatsConfig {
  /** ws:// or wss:// — nats.ws speaks only the websocket listener of nats-server. */
  url: string;
  connectTimeoutMs: number;
  publishTimeoutMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export function natsConfig(env: Env = process.env): NatsConfig {
  const issues: FieldIssue[] = [];
  const url = env.NATS_URL ?? '';
  if (!isWebSocketUrl(url)) issues.push({ path: 'NATS_URL', message: 'must be a ws:// or wss:// URL of the NATS websocket listener' });
  const millis = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= 10 && value <= 60_000)) issues.push({ path: name, message: 'must be a whole number of milliseconds, 10–60000' });
    return value;
  };
  const connectTimeoutMs = millis('NATS_CONNECT_TIMEOUT_MS', 2_000);
  const publishTimeoutMs = millis('NATS_PUBLISH_TIMEOUT_MS', 1_000);
  if (issues.length > 0) throw new ConfigError(issues);
  return { url, connectTimeoutMs, publishTimeoutMs };
}

function isWebSocketUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
  } catch {
    return false;
  }
}
