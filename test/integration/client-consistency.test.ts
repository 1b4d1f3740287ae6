/**
 * The IdP and Postgres agree after any single failure. Each case runs a client operation against
 * the real dev IdP and a real PostgreSQL, with one fault injected after one step:
 *
 * - the IdP answers 5xx (it did nothing);
 * - the IdP does the work but the answer is lost (connection reset) or comes after our deadline;
 * - the database goes away (every backend of the service terminated) after the IdP said yes,
 *   so the commit fails — with the compensation at the IdP working, or failing too.
 *
 * Then reconcile runs, and the clients in Postgres must equal the clients the IdP holds for
 * this service, metadata included. Faults are injected in the one place a real part cannot
 * produce them on demand: the fetch under the IdP adapters (registration and admin API).
 *
 * An update or rotation applied at the IdP whose answer was lost leaves the row with a
 * registration access token the IdP has replaced: the later update, rotation and delete of that
 * client must still work (through the admin API), and reconcile must still repair its metadata.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient, deleteClient, rotateClientSecret, updateClient, type ClientDeps } from '../../lib/admin/clients.js';
import type { IdpInventory } from '../../lib/admin/idp-admin.js';
import type { MutationContext } from '../../lib/admin/mutation.js';
import { reconcileClients } from '../../lib/admin/reconcile.js';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { postgresPolicyStore } from '../../lib/adapters/postgres/policy-store.js';
import { inventoryClient } from '../../lib/adapters/oidc/inventory-client.js';
import { registrationClient } from '../../lib/adapters/oidc/registration-client.js';
import { tokenSealer } from '../../lib/crypto/token-sealer.js';
import { createLogger } from '../../lib/observability/logger.js';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';
import { addTenant, testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

type Fault = 'none' | 'status503' | 'error200' | 'huge' | 'lostResponse' | 'timeout' | 'databaseDown';
interface Plan {
  /** Which IdP call the fault hits, by HTTP method: POST register, PUT update/rotate (RFC 7592 or admin), DELETE delete. */
  method: 'POST' | 'PUT' | 'DELETE';
  fault: Fault;
  /** The compensating call (the next one) fails too. */
  compensationFails?: boolean;
  /** Calls of that method let through before the fault (e.g. the RFC 7592 call before the admin one). */
  skip?: number;
}
interface Secrets {
  client_id: string;
  client_secret: string;
}

const SOFTWARE_ID = 'urn:citadel:iam-service:consistency-test';
const TIMEOUT_MS = 400;

describe('client operations keep the IdP and Postgres in agreement after a single failure', () => {
  let idp: DevIdp;
  let db: Database;
  /** The test's own pool: it reads both sides and terminates the service's transaction. */
  let killer: Database;
  let deps: ClientDeps;
  let inventory: IdpInventory;
  let plan: Plan | undefined;
  /** The body of the last answer the IdP gave but the adapter never heard. */
  let lostAnswer: Record<string, unknown> | undefined;
  const idpErrors: string[] = [];
  const ctx = (): MutationContext => ({ actor: 'consistency-test', requestId: randomUUID() });

  /** The fetch under the IdP adapter: honest, except for the one planned fault. */
  const faultyFetch: typeof fetch = async (input, init) => {
    const current = plan;
    const method = init?.method ?? 'GET';
    if (!current || current.method !== method) return fetch(input, init);
    if (current.skip) {
      plan = { ...current, skip: current.skip - 1 };
      return fetch(input, init);
    }
    plan = current.compensationFails ? { method: compensationMethod(method), fault: 'status503' } : undefined;
    switch (current.fault) {
      case 'status503':
        return new Response(JSON.stringify({ error: 'server_error' }), { status: 503, headers: { 'content-type': 'application/json' } });
      case 'error200': // a success status carrying an error
        return new Response(JSON.stringify({ error: 'server_error', client_id: 'x' }), { status: 200, headers: { 'content-type': 'application/json' } });
      case 'huge': // valid JSON, far past the byte cap, no content-length
        return new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode(`{"client_id":"x","pad":"${'a'.repeat(2_000_000)}"}`));
              controller.close();
            },
          }),
          { status: 201, headers: { 'content-type': 'application/json' } },
        );
      case 'lostResponse':
        lostAnswer = (await (await fetch(input, init)).json().catch(() => undefined)) as Record<string, unknown> | undefined; // the IdP did it ...
        throw new TypeError('fetch failed: socket hang up'); // ... and we never heard
      case 'timeout': {
        lostAnswer = (await (await fetch(input, init)).json().catch(() => undefined)) as Record<string, unknown> | undefined;
        await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 200));
        init?.signal?.throwIfAborted();
        throw new Error('expected the adapter deadline to have fired');
      }
      case 'databaseDown': {
        const answer = await fetch(input, init);
        // The connection holding the operation's transaction (waiting on this IdP call) dies.
        const killed = await killer.query(
          'test.kill',
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
        );
        if (killed.length !== 1) throw new Error(`expected one transaction to terminate, found ${killed.length}`);
        return answer;
      }
      default:
        return fetch(input, init);
    }
  };
  const compensationMethod = (method: string): Plan['method'] => (method === 'POST' ? 'DELETE' : 'PUT');

  beforeAll(async () => {
    const url = await createTestDatabase();
    db = testDatabase(url);
    killer = testDatabase(url);
    await addTenant(killer, 'acme');
    idp = await startDevIdp({ adminSubject: 'consistency-admin' });
    const log = createLogger('error');
    const metrics = { idpError: (operation: string) => void idpErrors.push(operation) };
    const credentials = async () => ({ initialAccessToken: idp.initialAccessToken });
    const keys = [{ id: 'k1', base64: randomBytes(32).toString('base64') }];
    const calls = { softwareId: SOFTWARE_ID, credentials, timeoutMs: TIMEOUT_MS, maxResponseBytes: 65_536, fetch: faultyFetch, metrics, log };
    deps = {
      store: postgresPolicyStore(db),
      idp: registrationClient({ ...calls, issuer: idp.issuer }),
      inventory: inventoryClient({ ...calls, adminUrl: idp.adminApiUrl }),
      sealer: tokenSealer(async () => keys),
      log,
    };
    // The test's own view of the IdP: honest, and not counted.
    inventory = inventoryClient({ adminUrl: idp.adminApiUrl, softwareId: SOFTWARE_ID, credentials, timeoutMs: 2_000, maxResponseBytes: 1_048_576, metrics: { idpError: () => undefined }, log });
  });
  afterEach(() => {
    plan = undefined;
    lostAnswer = undefined;
  });
  afterAll(async () => {
    await db.end();
    await killer.end();
    await idp.stop();
  });

  async function createWithSecret(name: string): Promise<Secrets> {
    const reply = await createClient(deps, ctx(), 'acme', { client_name: name, grant_types: ['client_credentials'], redirect_uris: [], scope: 'iam', token_endpoint_auth_method: 'client_secret_basic', roles: [] });
    return reply.body as Secrets;
  }
  const create = async (name: string) => (await createWithSecret(name)).client_id;

  type Side = {
    client_id: string;
    client_name: string;
    grant_types: string[];
    redirect_uris: string[];
    scope: string;
    token_endpoint_auth_method: string;
  };
  /** One client as either side holds it, lists sorted (their order means nothing to the IdP). */
  const normal = (c: Side): Side => ({
    client_id: c.client_id,
    client_name: c.client_name,
    grant_types: [...c.grant_types].sort(),
    redirect_uris: [...c.redirect_uris].sort(),
    scope: c.scope.split(' ').filter(Boolean).sort().join(' '),
    token_endpoint_auth_method: c.token_endpoint_auth_method,
  });

  /** Postgres's clients and the IdP's (ours only), with all the metadata both hold. */
  async function sides() {
    const byId = (a: { client_id: string }, b: { client_id: string }) => (a.client_id < b.client_id ? -1 : 1);
    const rows = await killer.query<Side>('test.clients', 'SELECT client_id, client_name, grant_types, redirect_uris, scope, token_endpoint_auth_method FROM clients');
    return { postgres: rows.map(normal).sort(byId), idp: (await inventory.list()).map(normal).sort(byId) };
  }
  const idpName = async (clientId: string) => (await sides()).idp.find((c) => c.client_id === clientId)?.client_name;

  /** What the IdP's token endpoint says to a client-credentials grant with this secret. */
  const tokenWith = (client: Secrets) =>
    idp.clientCredentialsToken(client).then(
      () => 'token',
      () => 'refused',
    );

  async function reconcile() {
    return reconcileClients({ ...deps, inventory }, { graceSeconds: 0, requestId: randomUUID() });
  }

  /** Runs `operation` with the fault, expects it to fail, then checks agreement after reconcile. */
  async function failOnce(next: Plan, operation: () => Promise<unknown>, expectedStatus: number) {
    plan = next;
    await expect(operation()).rejects.toMatchObject({ status: expectedStatus });
    expect(plan).toBeUndefined(); // the fault (and any failing compensation) really happened
    const report = await reconcile();
    const after = await sides();
    expect(after.postgres).toEqual(after.idp);
    return report;
  }

  it.each([
    ['the IdP answers 5xx', { method: 'POST', fault: 'status503' }, 502, 0],
    ['the IdP answers 200 with an error', { method: 'POST', fault: 'error200' }, 502, 0],
    ['the IdP answers with a huge body', { method: 'POST', fault: 'huge' }, 502, 0],
    ['the IdP registers but the answer is lost', { method: 'POST', fault: 'lostResponse' }, 502, 1],
    ['the IdP registers but answers after the deadline', { method: 'POST', fault: 'timeout' }, 502, 1],
    ['the database goes down before the commit (compensated)', { method: 'POST', fault: 'databaseDown' }, 503, 0],
    ['the database goes down and the compensation fails too', { method: 'POST', fault: 'databaseDown', compensationFails: true }, 503, 1],
  ] as const)('create: %s — no row, and no IdP client once reconcile ran', async (_case, fault, status, orphans) => {
    const before = await sides();
    const report = await failOnce(fault, () => create(`create-${fault.fault}`), status);
    expect(report.orphansDeleted).toHaveLength(orphans);
    expect(await sides()).toEqual(before);
  });

  it.each([
    ['the IdP answers 5xx', { method: 'PUT', fault: 'status503' }, 502, []],
    ['the IdP updates but the answer is lost', { method: 'PUT', fault: 'lostResponse' }, 502, ['restored']],
    ['the IdP updates but answers after the deadline', { method: 'PUT', fault: 'timeout' }, 502, ['restored']],
    ['the database goes down after the IdP updated (compensated)', { method: 'PUT', fault: 'databaseDown' }, 503, []],
    ['the database goes down and the compensation fails too', { method: 'PUT', fault: 'databaseDown', compensationFails: true }, 503, ['restored']],
  ] as const)('update: %s — the IdP ends with the metadata Postgres has, and the client stays manageable', async (_case, fault, status, restored) => {
    const name = `update-${fault.fault}-${'compensationFails' in fault ? 'twice' : 'once'}`;
    const client = await createWithSecret(name);
    const clientId = client.client_id;
    const report = await failOnce(fault, () => updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'renamed', scope: 'iam openid' }), status);
    expect(report.metadataRestored).toEqual(restored.map(() => clientId));
    expect(report.failed).toEqual([]);
    expect(await idpName(clientId)).toBe(name);
    // Whatever happened to the registration access token, the client is updated, rotated and deleted.
    await updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: `${name}-later` });
    expect(await idpName(clientId)).toBe(`${name}-later`);
    expect(await tokenWith(client)).toBe('token'); // an update never touches the secret
    const rotated = { client_id: clientId, client_secret: ((await rotateClientSecret(deps, ctx(), 'acme', clientId)).body as Secrets).client_secret };
    expect([await tokenWith(client), await tokenWith(rotated)]).toEqual(['refused', 'token']);
    const settled = await sides();
    expect(settled.postgres).toEqual(settled.idp);
    expect((await reconcile()).metadataRestored).toEqual([]);
    await expect(deleteClient(deps, ctx(), 'acme', clientId, undefined)).resolves.toMatchObject({ status: 204 });
    expect(await tokenWith(rotated)).toBe('refused');
    expect((await sides()).idp.some((c) => c.client_id === clientId)).toBe(false);
  });

  it('update: reconcile repairs the drift a lost answer left, on its own, and for good', async () => {
    const clientId = await create('drift-lost');
    plan = { method: 'PUT', fault: 'lostResponse' };
    await expect(updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'drifted', grant_types: ['client_credentials'] })).rejects.toMatchObject({ status: 502 });
    expect(await idpName(clientId)).toBe('drifted'); // applied at the IdP; Postgres still says otherwise
    const first = await reconcile();
    expect(first).toMatchObject({ metadataRestored: [clientId], failed: [] });
    const second = await reconcile();
    expect(second).toMatchObject({ metadataRestored: [], failed: [] });
    const after = await sides();
    expect(after.postgres).toEqual(after.idp);
    expect(await idpName(clientId)).toBe('drift-lost');
  });

  it.each([
    ['the IdP answers 5xx', { method: 'DELETE', fault: 'status503' }, 502, true],
    ['the IdP deletes but the answer is lost', { method: 'DELETE', fault: 'lostResponse' }, 502, false],
    ['the IdP deletes but answers after the deadline', { method: 'DELETE', fault: 'timeout' }, 502, false],
    ['the database goes down after the IdP deleted', { method: 'DELETE', fault: 'databaseDown' }, 503, false],
  ] as const)('delete: %s — both keep the client or neither does', async (_case, fault, status, kept) => {
    const clientId = await create(`delete-${fault.fault}`);
    const report = await failOnce(fault, () => deleteClient(deps, ctx(), 'acme', clientId, undefined), status);
    expect((await sides()).postgres.some((c) => c.client_id === clientId)).toBe(kept);
    expect(report.rowsRemoved).toEqual(kept ? [] : [clientId]);
    if (!kept) {
      const [event] = await killer.query<{ type: string; actor: string }>(
        'test.reconcile_event',
        "SELECT event->>'type' AS type, event->>'actor' AS actor FROM outbox WHERE event->'data'->>'client_id' = $1 AND event->>'type' = 'citadel.iam.client.deleted'",
        [clientId],
      );
      expect(event).toEqual({ type: 'citadel.iam.client.deleted', actor: 'system:reconcile' });
    }
  });

  it.each([
    ['the IdP answers 5xx', { method: 'PUT', fault: 'status503' }, 502],
    ['the database goes down after the IdP rotated', { method: 'PUT', fault: 'databaseDown' }, 503],
  ] as const)('rotate: %s — the client still exists on both sides and can be rotated again', async (_case, fault, status) => {
    const clientId = await create(`rotate-${fault.fault}`);
    await failOnce(fault, () => rotateClientSecret(deps, ctx(), 'acme', clientId), status);
    const after = await sides();
    expect(after.postgres.some((c) => c.client_id === clientId) && after.idp.some((c) => c.client_id === clientId)).toBe(true);
    const again = (await rotateClientSecret(deps, ctx(), 'acme', clientId)).body as { client_secret: string };
    expect(await idp.clientCredentialsToken({ client_id: clientId, client_secret: again.client_secret })).toEqual(expect.any(String));
  });

  it.each([
    ['the IdP rotates but the answer is lost', { method: 'PUT', fault: 'lostResponse' }],
    ['the IdP rotates but answers after the deadline', { method: 'PUT', fault: 'timeout' }],
  ] as const)('rotate: %s — only the secret nobody saw works, and the next rotation, update and delete succeed', async (_case, fault) => {
    const created = await createWithSecret(`rotate-${fault.fault}`);
    const clientId = created.client_id;
    await failOnce(fault, () => rotateClientSecret(deps, ctx(), 'acme', clientId), 502);
    // The IdP issued a secret the caller never got: the old one is dead, so the operator rotates again.
    const unseen = { client_id: clientId, client_secret: String(lostAnswer?.client_secret) };
    expect([await tokenWith(created), await tokenWith(unseen)]).toEqual(['refused', 'token']);
    const again = { client_id: clientId, client_secret: ((await rotateClientSecret(deps, ctx(), 'acme', clientId)).body as Secrets).client_secret };
    expect([await tokenWith(created), await tokenWith(unseen), await tokenWith(again)]).toEqual(['refused', 'refused', 'token']);
    // And again: a client recovered once stays manageable.
    const third = { client_id: clientId, client_secret: ((await rotateClientSecret(deps, ctx(), 'acme', clientId)).body as Secrets).client_secret };
    expect([await tokenWith(again), await tokenWith(third)]).toEqual(['refused', 'token']);
    await updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'rotated-then-renamed' });
    expect(await idpName(clientId)).toBe('rotated-then-renamed');
    expect(await tokenWith(third)).toBe('token');
    const settled = await sides();
    expect(settled.postgres).toEqual(settled.idp);
    await expect(deleteClient(deps, ctx(), 'acme', clientId, undefined)).resolves.toMatchObject({ status: 204 });
    expect(await tokenWith(third)).toBe('refused');
  });

  it('recovery: an admin API that fails while the token is stale is a 502 that changes nothing, and the retry succeeds', async () => {
    const client = await createWithSecret('recovery-fails');
    const clientId = client.client_id;
    plan = { method: 'PUT', fault: 'lostResponse' };
    await expect(updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'lost' })).rejects.toMatchObject({ status: 502 });
    const version = async () => (await killer.query<{ version: number }>('test.version', 'SELECT version FROM clients WHERE client_id = $1', [clientId]))[0]?.version;
    const before = await version();

    // The RFC 7592 PUT gets 401 (stale token); the admin PUT after it fails.
    plan = { method: 'PUT', fault: 'status503', skip: 1 };
    await expect(updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'retry' })).rejects.toMatchObject({ status: 502 });
    plan = { method: 'PUT', fault: 'status503', skip: 1 };
    await expect(rotateClientSecret(deps, ctx(), 'acme', clientId)).rejects.toMatchObject({ status: 502 });
    expect(await tokenWith(client)).toBe('token');
    // A delete whose IdP call fails answers 502, never 204, and the client keeps working.
    plan = { method: 'DELETE', fault: 'status503', skip: 1 };
    await expect(deleteClient(deps, ctx(), 'acme', clientId, undefined)).rejects.toMatchObject({ status: 502 });
    expect(plan).toBeUndefined();
    expect(await tokenWith(client)).toBe('token');
    expect(await version()).toBe(before);

    await updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'retry' });
    expect(await idpName(clientId)).toBe('retry');
    await expect(deleteClient(deps, ctx(), 'acme', clientId, undefined)).resolves.toMatchObject({ status: 204 });
    expect(await tokenWith(client)).toBe('refused');
  });

  it('delete: after the IdP deleted but the answer was lost, the caller’s retry answers 204 without waiting for reconcile', async () => {
    const client = await createWithSecret('delete-retried');
    plan = { method: 'DELETE', fault: 'lostResponse' };
    await expect(deleteClient(deps, ctx(), 'acme', client.client_id, undefined)).rejects.toMatchObject({ status: 502 });
    expect(await tokenWith(client)).toBe('refused');
    await expect(deleteClient(deps, ctx(), 'acme', client.client_id, undefined)).resolves.toMatchObject({ status: 204 });
    const after = await sides();
    expect(after.postgres).toEqual(after.idp);
  });

  it('delete: a client the IdP no longer has (its admin API says 404) is deleted here with 204', async () => {
    const clientId = await create('deleted-behind-our-back');
    const removed = await fetch(`${idp.adminApiUrl}/clients/${encodeURIComponent(clientId)}`, { method: 'DELETE', headers: { authorization: `Bearer ${idp.initialAccessToken}` } });
    expect(removed.status).toBe(204);
    await expect(updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'x' })).rejects.toMatchObject({ status: 409, code: 'idp-client-gone' });
    await expect(rotateClientSecret(deps, ctx(), 'acme', clientId)).rejects.toMatchObject({ status: 409, code: 'idp-client-gone' });
    await expect(deleteClient(deps, ctx(), 'acme', clientId, undefined)).resolves.toMatchObject({ status: 204 });
    expect((await sides()).postgres.some((c) => c.client_id === clientId)).toBe(false);
  });

  it('leaves young IdP clients alone: their create may still be committing', async () => {
    plan = { method: 'POST', fault: 'lostResponse' };
    await expect(create('young-orphan')).rejects.toMatchObject({ status: 502 });
    const spared = await reconcileClients({ ...deps, inventory }, { graceSeconds: 3600, requestId: randomUUID() });
    expect(spared.orphansDeleted).toEqual([]);
    expect((await sides()).idp.map((c) => c.client_name)).toContain('young-orphan');
    expect((await reconcile()).orphansDeleted).toHaveLength(1);
  });

  it('does nothing when the IdP lists none of our clients while Postgres has some', async () => {
    await create('kept-despite-empty-list');
    const before = await sides();
    const empty = { list: async () => [], replace: inventory.replace, delete: inventory.delete } satisfies IdpInventory;
    const report = await reconcileClients({ ...deps, inventory: empty }, { graceSeconds: 0, requestId: randomUUID() });
    expect(report).toMatchObject({ refused: expect.stringMatching(/lists none/), rowsRemoved: [] });
    expect(await sides()).toEqual(before);
  });

  it('counts every failed IdP call in idp_adapter_errors_total by operation', () => {
    expect(new Set(idpErrors)).toEqual(new Set(['create', 'update', 'delete', 'rotate']));
  });
});
