import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { connect, type StreamInfo } from 'nats.ws';
import { ensureGlobalWebSocket } from '../../lib/adapters/nats/websocket.js';
import { INSTALL_HINT, startLocalNats } from '../../local/local-nats.js';
import { LocalStartError } from '../../local/start-errors.js';
import { startNatsServer } from '../support/nats-server.js';
import { logLines, npmStart, type StartedStack } from '../support/npm-start.js';
import { createTestDatabase } from '../support/test-database.js';

/**
 * Events under `npm start`, against real nats-servers (never the machine's own): the stream is
 * created when missing (once: a second start finds it), left alone and described when it
 * differs, and IAM_LOCAL_NATS=1 runs a server of its own with local/nats-server.conf.
 */
const NANOS_PER_MS = 1_000_000;
const dirs: string[] = [];
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'iam-start-events-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function streamInfo(url: string, name: string): Promise<StreamInfo> {
  ensureGlobalWebSocket();
  const nc = await connect({ servers: url, timeout: 2_000, reconnect: false });
  try {
    return await (await nc.jetstreamManager()).streams.info(name);
  } finally {
    await nc.close();
  }
}

async function lastEvent(url: string, subject: string): Promise<Record<string, unknown>> {
  const nc = await connect({ servers: url, timeout: 2_000, reconnect: false });
  try {
    const message = await (await nc.jetstreamManager()).streams.getMessage('CITADEL_IAM', { last_by_subj: subject });
    return message.json<Record<string, unknown>>();
  } finally {
    await nc.close();
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

async function createTenant(started: StartedStack, slug: string): Promise<number> {
  const response = await fetch(`${started.stack.api_url}/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${started.stack.idp.admin_token}`, 'content-type': 'application/json', 'idempotency-key': `create-${slug}` },
    body: JSON.stringify({ slug, name: slug }),
  });
  return response.status;
}

describe('npm start with IAM_LOCAL_NATS=1', () => {
  const dir = newDir();
  let databaseUrl: string;

  it('starts its own nats-server, creates the stream once, and publishes events to it', async () => {
    databaseUrl = await createTestDatabase();
    const started = await npmStart(dir, { DATABASE_URL: databaseUrl, IAM_LOCAL_NATS: '1' });
    let natsPort: number;
    try {
      const events = started.stack.events!;
      expect(events).toMatchObject({ local_server: true, stream: 'CITADEL_IAM', status: 'created', nats_url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+$/) });
      natsPort = Number(new URL(events.nats_url).port);
      expect(logLines(started.output(), 'created JetStream stream CITADEL_IAM (subjects citadel.iam.>, file storage, duplicate window 120 s)')).toHaveLength(1);
      expect(started.output()).toContain(`events           ${events.nats_url} (its own nats-server), stream CITADEL_IAM: created`);
      const { config } = await streamInfo(events.nats_url, 'CITADEL_IAM');
      expect(config).toMatchObject({ subjects: ['citadel.iam.>'], storage: 'file' });
      expect(config.duplicate_window).toBeGreaterThanOrEqual(2 * 60_000 * NANOS_PER_MS);

      expect(await createTenant(started, 'initech')).toBe(201);
      expect(await lastEvent(events.nats_url, 'citadel.iam.tenant.created')).toMatchObject({ type: 'citadel.iam.tenant.created', subject: 'tenants/initech' });
    } finally {
      expect(await started.stop()).toBe(true);
    }
    expect(await portOpen(natsPort)).toBe(false);
  }, 90_000);

  it('reuses the stream and its events on a second start', async () => {
    const started = await npmStart(dir, { DATABASE_URL: databaseUrl, IAM_LOCAL_NATS: '1' });
    try {
      const events = started.stack.events!;
      expect(events).toMatchObject({ local_server: true, stream: 'CITADEL_IAM', status: 'exists' });
      expect(logLines(started.output(), 'JetStream stream CITADEL_IAM is in place')).toHaveLength(1);
      expect(started.output()).not.toContain('created JetStream stream');
      expect(await lastEvent(events.nats_url, 'citadel.iam.tenant.created')).toMatchObject({ subject: 'tenants/initech' });
    } finally {
      expect(await started.stop()).toBe(true);
    }
  }, 90_000);

  it('says how to install nats-server where there is none', async () => {
    const attempt = startLocalNats({ dir: newDir(), findBinary: () => undefined });
    await expect(attempt).rejects.toThrow(LocalStartError);
    await expect(attempt).rejects.toThrow(INSTALL_HINT);
    expect(INSTALL_HINT).toContain('apt-get install -y nats-server');
  });
});

describe('npm start with NATS_URL', () => {
  it('leaves a stream with other settings as it is and says what differs', async () => {
    const nats = await startNatsServer({ duplicateWindowMs: 30_000 });
    const started = await npmStart(newDir(), { DATABASE_URL: await createTestDatabase(), NATS_URL: nats.url });
    try {
      expect(started.stack.events).toMatchObject({ local_server: false, nats_url: nats.url, stream: 'CITADEL_IAM', status: 'differs' });
      expect(started.stack.events!.detail).toMatch(/^duplicate window is 30 s \(wanted at least 120 s/);
      const [warning] = logLines(started.output(), `JetStream stream CITADEL_IAM differs from what the service needs, left as it is: ${started.stack.events!.detail}`);
      expect(warning).toMatchObject({ level: 'warn' });
      expect((await streamInfo(nats.url, 'CITADEL_IAM')).config.duplicate_window).toBe(30_000 * NANOS_PER_MS);
      expect(await createTenant(started, 'hooli')).toBe(201);
      expect(await lastEvent(nats.url, 'citadel.iam.tenant.created')).toMatchObject({ subject: 'tenants/hooli' });
    } finally {
      expect(await started.stop()).toBe(true);
      await nats.dispose();
    }
  }, 90_000);
});
