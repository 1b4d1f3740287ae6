/**
 * A real nats-server (Debian's, v2.9.10) for tests: loopback only, JetStream in a temporary
 * store, a websocket listener for nats.ws, and the service's event stream. `stop()` and
 * `restart()` act on this process only, keeping ports and store, so a test can stage an
 * outage and a recovery with the stream (and its duplicate window) intact.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats.ws';
import { waitForJetStream } from '../../lib/adapters/nats/jetstream-ready.js';
import { ensureGlobalWebSocket } from '../../lib/adapters/nats/websocket.js';
import { freePort } from './free-port.js';

export const EVENT_STREAM = 'CITADEL_IAM';
const NANOS_PER_MS = 1_000_000;

export interface NatsServer {
  /** ws://127.0.0.1:<port>, what NATS_URL holds. */
  url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** A client connection for assertions; the caller closes it. */
  client(): Promise<NatsConnection>;
  /** Every message in the event stream, in stream order. */
  streamMessages(): Promise<StreamMessage[]>;
  /** Stops the server and deletes its store. */
  dispose(): Promise<void>;
}

export interface StreamMessage {
  subject: string;
  msgId: string | undefined;
  seq: number;
  json: Record<string, unknown>;
}

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
export function natsServerBinary(): string {
  try {
    return execFileSync('which', ['nats-server'], { encoding: 'utf8' }).trim();
  } catch {
    if (existsSync('/usr/sbin/nats-server')) return '/usr/sbin/nats-server';
    throw new Error('nats-server is not installed: npm run test:setup installs it (as root), or sudo apt-get install -y nats-server');
  }
}

export async function startNatsServer(options: { duplicateWindowMs?: number } = {}): Promise<NatsServer> {
  ensureGlobalWebSocket();
  const binary = natsServerBinary();
  const dir = await mkdtemp(join(tmpdir(), 'iam-nats-'));
  const [clientPort, wsPort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'nats.conf');
  await writeFile(
    configFile,
    [
      'server_name: iam-test',
      `listen: "127.0.0.1:${clientPort}"`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, 'store'))} }`,
      `websocket { host: "127.0.0.1", port: ${wsPort}, no_tls: true }`,
    ].join('\n'),
  );
  const url = `ws://127.0.0.1:${wsPort}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    proc.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    child = proc;
    await jetStreamReady(url, () => proc.exitCode !== null, () => output);
  };

  const client = () => connect({ servers: url, timeout: 2_000, reconnect: false });

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  const nc = await client();
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: EVENT_STREAM,
      subjects: ['citadel.iam.>'],
      duplicate_window: (options.duplicateWindowMs ?? 5 * 60_000) * NANOS_PER_MS,
    });
  } finally {
    await nc.close();
  }

  return {
    url,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    client,
    async streamMessages() {
      const nc = await client();
      try {
        return await readStream(nc);
      } finally {
        await nc.close();
      }
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the whole stream through an ephemeral ordered consumer. */
/**
 * Every message of the stream, in order, read by sequence number from the stream's own state:
 * unlike a consumer's timed fetch, a busy machine cannot make it return fewer than are stored.
 */
async function readStream(nc: NatsConnection): Promise<StreamMessage[]> {
  const jsm = await nc.jetstreamManager();
  const { first_seq: first, last_seq: last, messages: total } = (await jsm.streams.info(EVENT_STREAM)).state;
  if (total === 0) return [];
  const messages: StreamMessage[] = [];
  for (let seq = first; seq <= last; seq += 1) {
    const stored = await jsm.streams.getMessage(EVENT_STREAM, { seq }).catch(() => undefined); // a deleted sequence
    if (stored) messages.push({ subject: stored.subject, msgId: stored.header?.get('Nats-Msg-Id'), seq: stored.seq, json: stored.json<Record<string, unknown>>() });
  }
  return messages;
}

async function jetStreamReady(url: string, exited: () => boolean, output: () => string): Promise<void> {
  const wait = await waitForJetStream(url, exited);
  if (wait.ready) return;
  if (wait.exited) throw new Error(`nats-server exited during start:\n${output()}`);
  throw new Error(`nats-server did not become ready at ${url}: ${String(wait.last)}\n${output()}`);
}

