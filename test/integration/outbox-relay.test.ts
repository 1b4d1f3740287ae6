import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { jetStreamPublisher } from '../../lib/adapters/nats/jetstream-publisher.js';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { postgresOutbox } from '../../lib/adapters/postgres/outbox.js';
import { postgresOutboxBacklog } from '../../lib/adapters/postgres/outbox-backlog.js';
import { postgresPolicyStore } from '../../lib/adapters/postgres/policy-store.js';
import { postgresRelayOutbox } from '../../lib/adapters/postgres/relay-outbox.js';
import { inventoryClient } from '../../lib/adapters/oidc/inventory-client.js';
import { registrationClient } from '../../lib/adapters/oidc/registration-client.js';
import { createClient, deleteClient, rotateClientSecret, updateClient } from '../../lib/admin/clients.js';
import { createRole, deleteRole, updateRole } from '../../lib/admin/roles.js';
import { tokenSealer } from '../../lib/crypto/token-sealer.js';
import { startDevIdp } from '../../local/dev-idp.js';
import { createTenant, deleteTenant, updateTenant } from '../../lib/admin/tenants.js';
import { deleteUser, putUser } from '../../lib/admin/users.js';
import { type CloudEvent, cloudEvent, EVENT_TYPES, type EventType } from '../../lib/events/catalog.js';
import type { EventPublisher, RelayOutbox } from '../../lib/events/ports.js';
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
  let outbox: RelayOutbox;
  let publisher: EventPublisher;
  let lines: string[];
  let log: Logger;

  beforeEach(async () => {
    [nats, db] = await Promise.all([startNatsServer(), createTestDatabase().then(testDatabase)]);
    outbox = postgresRelayOutbox(db);
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

    const result = await relayOutbox({ outbox, publisher, log, batchSize: 100 });

    expect(result).toEqual({ published: 5, failed: 0, claimed: 5 });
    const messages = await nats.streamMessages();
    expect(messages.map((m) => m.msgId)).toEqual(events.map((e) => e.id));
    expect(messages.map((m) => m.subject)).toEqual(events.map((e) => e.type));
    expect(messages[0]!.json).toEqual(events[0]);
    expect((await rows()).every((row) => row.published_at !== null && row.attempts === 0)).toBe(true);
    expect(await relayOutbox({ outbox, publisher, log, batchSize: 100 })).toEqual({ published: 0, failed: 0, claimed: 0 });
  });

  it('keeps one message when the same event is published twice', async () => {
    const [event] = await write(1);

    await publisher.publish([event!]);
    await publisher.publish([event!]);
    await relayOutbox({ outbox, publisher, log, batchSize: 10 });

    expect(await streamIds()).toEqual([event!.id]);
  });

  it('drains a backlog larger than one batch', async () => {
    const events = await write(7);

    const run = await drainOutbox({ outbox, publisher, log }, 5_000, 3);

    expect(run).toEqual({ published: 7, failed: 0, batches: 3 });
    expect(await streamIds()).toEqual(events.map((e) => e.id));
  });

  it('publishes right after commit within its budget and marks the events published', async () => {
    const events = await write(2);

    const started = Date.now();
    expect(await publishAfterCommit({ outbox, publisher, log }, events, { budgetMs: 1_000 })).toBe(2);

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await streamIds()).toEqual(events.map((e) => e.id));
    expect((await rows()).every((row) => row.published_at !== null)).toBe(true);
  });

  it('keeps events through a NATS outage and publishes the backlog in order, each once, after it', async () => {
    const before = await write(2);
    await relayOutbox({ outbox, publisher, log, batchSize: 100 });

    await nats.stop();
    const during = await write(3);
    const started = Date.now();
    // The request path: must neither throw nor wait past its budget.
    await expect(publishAfterCommit({ outbox, publisher, log }, during, { budgetMs: 200 })).resolves.toBe(0);
    expect(Date.now() - started).toBeLessThan(600);
    const failing = await relayOutbox({ outbox, publisher, log, batchSize: 100 });
    expect(failing).toEqual({ published: 0, failed: 1, claimed: 3 });
    const pending = (await rows()).slice(2);
    expect(pending.map((row) => row.published_at)).toEqual([null, null, null]);
    expect(pending.map((row) => row.attempts)).toEqual([1, 0, 0]);
    expect(lines.some((line) => line.includes('outbox relay could not publish'))).toBe(true);
    const after = [...during, ...(await write(1))];

    await nats.restart();
    // A publish repeated after the outage (e.g. the broker stored it but the ack was lost).
    await publisher.publish([during[0]!]);
    const recovered = await drainOutbox({ outbox, publisher, log }, 5_000);

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
    const calls = {
      softwareId: 'urn:citadel:iam-service',
      credentials: async () => ({ initialAccessToken: idp.initialAccessToken }),
      timeoutMs: 2_000,
      maxResponseBytes: 65_536,
      metrics: { idpError: () => undefined },
      log,
    };
    const deps = {
      store: postgresPolicyStore(db),
      log,
      sealer: tokenSealer(async () => keys),
      idp: registrationClient({ ...calls, issuer: idp.issuer }),
      inventory: inventoryClient({ ...calls, adminUrl: idp.adminApiUrl }),
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

    await drainOutbox({ outbox, publisher, log }, 5_000);

    const messages = await nats.streamMessages();
    expect(new Set(messages.map((m) => m.subject))).toEqual(new Set(EVENT_TYPES));
    const credentialKey = /secret|access_token|registration|password|^token$/i;
    for (const message of messages) expect(keysOf(message.json).filter((key) => credentialKey.test(key))).toEqual([]);
    for (const secret of secrets) expect(messages.filter((m) => JSON.stringify(m.json).includes(secret))).toEqual([]);
  });
});

describe('outbox relay function: the age of the oldest unpublished event', () => {
  let nats: NatsServer;
  let db: Database;
  let relay: typeof import('../../functions/outbox-relay.js').handler;
  const stdout: string[] = [];

  beforeAll(async () => {
    const url = await createTestDatabase();
    [nats, db] = await Promise.all([startNatsServer(), testDatabase(url)]);
    Object.assign(process.env, { DATABASE_URL: url, NATS_URL: nats.url, NATS_CONNECT_TIMEOUT_MS: '300', NATS_PUBLISH_TIMEOUT_MS: '300' });
    jest.spyOn(process.stdout, 'write').mockImplementation((line: string | Uint8Array) => stdout.push(String(line)) > 0);
    ({ handler: relay } = await import('../../functions/outbox-relay.js'));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    // The function's own runtime (built at its import): close its pool and NATS connection.
    const app = (await import('../../lib/wiring/events.js')).eventsRuntime();
    await Promise.all([app.db.end(), app.publisher?.close()]);
    await nats.dispose();
    await db.end();
  });

  /** Runs the relay function once; returns its result and the age metric lines it wrote. */
  const run = async () => {
    stdout.length = 0;
    const result = await relay(undefined, { getRemainingTimeInMillis: () => 15_000 });
    const metrics = stdout
      .filter((line) => line.includes('outbox_oldest_unpublished_age_seconds'))
      .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<Record<string, unknown>> } });
    return { result, metrics };
  };
  const add = async (count: number, ageSeconds: number) => {
    for (let i = 0; i < count; i += 1) {
      const event = cloudEvent('citadel.iam.tenant.created', `tenants/age-${i}`, 'test-admin', { slug: `age-${i}` });
      await postgresOutbox(db).add(event);
      // Written `ageSeconds` ago (the newest of them a little later).
      await db.query('test.backdate', `UPDATE outbox SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, [event.id, ageSeconds - i]);
    }
  };

  it('emits 0 as an EMF gauge of the service when nothing waits', async () => {
    const { result, metrics } = await run();

    expect(result.oldestUnpublishedAgeSeconds).toBe(0);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]).toMatchObject({ service: 'iam-service', outbox_oldest_unpublished_age_seconds: 0 });
    expect(metrics[0]!._aws.CloudWatchMetrics).toEqual([
      { Namespace: 'Citadel/IamService', Dimensions: [['service']], Metrics: [{ Name: 'outbox_oldest_unpublished_age_seconds', Unit: 'Seconds' }] },
    ]);
  });

  it('emits the age of the oldest unpublished event on every run while NATS is down, and 0 once the backlog is published', async () => {
    await add(3, 120);
    // A published event older than all of them does not count.
    await db.query('test.old_published', `INSERT INTO outbox (id, subject, event, created_at, published_at) VALUES (gen_random_uuid(), 'x', '{}', now() - interval '1 hour', now())`);
    await nats.stop();

    const first = await run();
    expect(first.result).toMatchObject({ published: 0, failed: 1 });
    expect(first.metrics).toHaveLength(1);
    const age = first.metrics[0]!.outbox_oldest_unpublished_age_seconds as number;
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(125);
    const second = await run();
    expect(second.metrics).toHaveLength(1);
    expect(second.metrics[0]!.outbox_oldest_unpublished_age_seconds as number).toBeGreaterThanOrEqual(age);

    await nats.restart();
    const recovered = await run();
    expect(recovered.result).toMatchObject({ published: 3, failed: 0, oldestUnpublishedAgeSeconds: 0 });
    expect(recovered.metrics.map((line) => line.outbox_oldest_unpublished_age_seconds)).toEqual([0]);
  });

  it('reads the age from the partial index on unpublished events, not by scanning the outbox', async () => {
    const plan = await db.transaction('test.plan', async (tx) => {
      // Few rows make a sequential scan the cheaper plan; forbid it to see the index is usable.
      await tx.query('test.no_seqscan', 'SET LOCAL enable_seqscan = off');
      return tx.query<{ 'QUERY PLAN': string }>(
        'test.explain',
        `EXPLAIN SELECT coalesce(round(extract(epoch FROM now() - min(created_at)), 3), 0)::float8 AS age FROM outbox WHERE published_at IS NULL`,
      );
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('outbox_unpublished_idx');
    expect(await postgresOutboxBacklog(db).oldestUnpublishedAgeSeconds()).toBe(0);
  });
});

function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}
