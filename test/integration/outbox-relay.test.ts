import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { jetStreamPublisher } from '../../lib/adapters/nats/jetstream-publisher.js';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { postgresOutbox } from '../../lib/adapters/postgres/outbox.js';
import { postgresPolicyStore } from '../../lib/adapters/postgres/policy-store.js';
import { registrationClient } from '../../lib/adapters/rauth/registration-client.js';
import { createClient, deleteClient, rotateClientSecret, updateClient } from '../../lib/admin/clients.js';
import { createRole, deleteRole, updateRole } from '../../lib/admin/roles.js';
import { sealer } from '../../lib/client-runtime.js';
import { startDevIdp } from '../../local/dev-idp.js';
import { createTenant, deleteTenant, updateTenant } from '../../lib/admin/tenants.js';
import { deleteUser, putUser } from '../../lib/admin/users.js';
import { type CloudEvent, cloudEvent, EVENT_TYPES, type EventType } from '../../lib/events/catalog.js';
import type { EventPublisher } from '../../lib/events/publisher.js';
import { drainOutbox, publishAfterCommit, relayOutbox } from '../../lib/events/relay.js';
import { createLogger, type Logger } from '../../lib/observability/logger.js';
import { type NatsServer, startNatsServer } from '../support/nats-server.js';
import { testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

type OutboxRow = {
  id: string;
  published_at: Date | null;
  attempts: number;
};

describe('outbox relay to JetStream', () => {
  let nats: NatsServer;
  let db: Database;
  let publisher: EventPublisher;
  let lines: string[];
  let log: Logger;

  beforeEach(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase().then(testDatabase)]);
    publisher = jetStreamPublisher({ url: nats.url, connectTimeoutMs: 1_000, publishTimeoutMs: 500 });
    lines = [];
    log = createLogger('debug', {}, (line) => lines.push(line));
  });
  afterEach(async () => {
    await publisher.close();
    await nats.dispose();
    await db.end();
  });

  const write = async (count: number, type: EventType = 'citadel.iam.tenant.created'): Promise<CloudEvent[]> => {
    const events: CloudEvent[] = [];
    for (let i = 0; i < count; i += 1) {
      const event = cloudEvent(type, `tenants/t-${i}`, 'test-admin', { slug: `t-${i}` });
      // One statement each, as separate changes commit: created_at orders them.
      await postgresOutbox(db).add(event);
      events.push(event);
    }
    return events;
  };
  const rows = () => db.query<OutboxRow>('test.outbox', 'SELECT id, published_at, attempts FROM outbox ORDER BY created_at');
  const streamIds = async () => (await nats.streamMessages()).map((message) => message.msgId);

  it('publishes every outbox event once, in order, and marks it published', async () => {
    const events = await write(5);

    const result = await relayOutbox({ db, publisher, log, batchSize: 100 });

    expect(result).toEqual({ published: 5, failed: 0, claimed: 5 });
    const messages = await nats.streamMessages();
    expect(messages.map((m) => m.msgId)).toEqual(events.map((e) => e.id));
    expect(messages.map((m) => m.subject)).toEqual(events.map((e) => e.type));
    expect(messages[0]!.json).toEqual(events[0]);
    expect((await rows()).every((row) => row.published_at !== null && row.attempts === 0)).toBe(true);
    expect(await relayOutbox({ db, publisher, log, batchSize: 100 })).toEqual({ published: 0, failed: 0, claimed: 0 });
  });

  it('keeps one message when the same event is published twice', async () => {
    const [event] = await write(1);

    await publisher.publish([event!]);
    await publisher.publish([event!]);
    await relayOutbox({ db, publisher, log, batchSize: 10 });

    expect(await streamIds()).toEqual([event!.id]);
  });

  it('drains a backlog larger than one batch', async () => {
    const events = await write(7);

    const run = await drainOutbox({ db, publisher, log }, 5_000, 3);

    expect(run).toEqual({ published: 7, failed: 0, batches: 3 });
    expect(await streamIds()).toEqual(events.map((e) => e.id));
  });

  it('publishes right after commit within its budget and marks the events published', async () => {
    const events = await write(2);

    const started = Date.now();
    expect(await publishAfterCommit({ db, publisher, log }, events, { budgetMs: 1_000 })).toBe(2);

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await streamIds()).toEqual(events.map((e) => e.id));
    expect((await rows()).every((row) => row.published_at !== null)).toBe(true);
  });

  it('keeps events through a NATS outage and publishes the backlog in order, each once, after it', async () => {
    const before = await write(2);
    await relayOutbox({ db, publisher, log, batchSize: 100 });

    await nats.stop();
    const during = await write(3);
    const started = Date.now();
    // The request path: must neither throw nor wait past its budget.
    await expect(publishAfterCommit({ db, publisher, log }, during, { budgetMs: 200 })).resolves.toBe(0);
    expect(Date.now() - started).toBeLessThan(600);
    const failing = await relayOutbox({ db, publisher, log, batchSize: 100 });
    expect(failing).toEqual({ published: 0, failed: 1, claimed: 3 });
    const pending = (await rows()).slice(2);
    expect(pending.map((row) => row.published_at)).toEqual([null, null, null]);
    expect(pending.map((row) => row.attempts)).toEqual([1, 0, 0]);
    expect(lines.some((line) => line.includes('outbox relay could not publish'))).toBe(true);
    const after = [...during, ...(await write(1))];

    await nats.restart();
    // A publish repeated after the outage (e.g. the broker stored it but the ack was lost).
    await publisher.publish([during[0]!]);
    const recovered = await drainOutbox({ db, publisher, log }, 5_000);

    expect(recovered).toMatchObject({ published: 4, failed: 0 });
    expect(await streamIds()).toEqual([...before, ...after].map((e) => e.id));
    expect((await rows()).every((row) => row.published_at !== null)).toBe(true);
  });

  it('fails fast, without hanging, when NATS is unreachable', async () => {
    await nats.stop();
    const offline = jetStreamPublisher({ url: nats.url, connectTimeoutMs: 300, publishTimeoutMs: 300 });
    const [event] = await write(1);
    try {
      const started = Date.now();
      await expect(offline.publish([event!])).rejects.toThrow('NATS is unreachable');
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await offline.close();
    }
  });

  it('publishes every event of the catalog without a secret or token in it', async () => {
    const idp = await startDevIdp({ adminSubject: 'relay-admin' });
    const keys = [{ id: 'k1', base64: randomBytes(32).toString('base64') }];
    const deps = {
      store: postgresPolicyStore(db),
      log,
      sealer: sealer(async () => keys),
      idp: registrationClient({
        issuer: idp.issuer,
        softwareId: 'urn:citadel:iam-service',
        credentials: async () => ({ initialAccessToken: idp.initialAccessToken }),
        timeoutMs: 2_000,
        maxResponseBytes: 65_536,
        metrics: { idpError: () => undefined },
        log,
      }),
    };
    const ctx = { actor: 'test-admin', requestId: 'req-1' };
    await createTenant(deps, ctx, { slug: 'acme', name: 'Acme' });
    const secrets: string[] = [];
    const metadata = { grant_types: ['client_credentials'], redirect_uris: [], scope: 'iam', token_endpoint_auth_method: 'client_secret_basic' };
    const created = (await createClient(deps, ctx, 'acme', { client_name: 'Exporter', ...metadata, roles: [] })).body as { client_id: string; client_secret: string };
    secrets.push(created.client_secret);
    await updateClient(deps, ctx, 'acme', created.client_id, '*', { client_name: 'Exporter 2' });
    secrets.push(((await rotateClientSecret(deps, ctx, 'acme', created.client_id)).body as { client_secret: string }).client_secret);
    const [row] = await db.query<{ token: Buffer }>('test.sealed', 'SELECT registration_token_enc AS token FROM clients');
    secrets.push(await deps.sealer.open(row!.token.toString('utf8')));
    await deleteClient(deps, ctx, 'acme', created.client_id, undefined);
    await idp.stop();
    await updateTenant(deps, ctx, 'acme', '*', { name: 'Acme Inc' });
    await createRole(deps, ctx, 'acme', { name: 'viewer', permissions: ['invoices:read'] });
    await updateRole(deps, ctx, 'acme', 'viewer', '*', { permissions: ['invoices:read', 'reports:read'] });
    await putUser(deps, ctx, 'acme', 'user-alice', undefined, ['viewer']);
    await deleteUser(deps, ctx, 'acme', 'user-alice', undefined);
    await deleteRole(deps, ctx, 'acme', 'viewer', undefined);
    await deleteTenant(deps, ctx, 'acme', undefined);

    await drainOutbox({ db, publisher, log }, 5_000);

    const messages = await nats.streamMessages();
    expect(new Set(messages.map((m) => m.subject))).toEqual(new Set(EVENT_TYPES));
    const credentialKey = /secret|access_token|registration|password|^token$/i;
    for (const message of messages) expect(keysOf(message.json).filter((key) => credentialKey.test(key))).toEqual([]);
    for (const secret of secrets) expect(messages.filter((m) => JSON.stringify(m.json).includes(secret))).toEqual([]);
  });
});

function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}
