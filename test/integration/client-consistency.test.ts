/**
 * The IdP and Postgres agree after any single failure. Each case runs a client operation against
 * the real dev IdP and a real PostgreSQL, with one fault injected after one step:
 *
 * - the IdP answers 5xx (it did nothing);
 * - the IdP does the work but the answer is lost (connection reset) or comes after our deadline;
 * - the database goes away (every backend of the service terminated) after the IdP said yes,
 *   so the commit fails — with the compensation at the IdP working, or failing too.
 *
 * Then reconcile runs, and the set of clients in Postgres must equal the set the IdP holds for
 * this service (and, where both have a client, its metadata). Faults are injected in the one
 * place a real part cannot produce them on demand: the fetch under the IdP adapter.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient, deleteClient, rotateClientSecret, updateClient, type ClientDeps } from '../../lib/admin/clients.js';
import type { IdpInventory } from '../../lib/admin/idp-admin.js';
import type { MutationContext } from '../../lib/admin/mutation.js';
import { reconcileClients } from '../../lib/admin/reconcile.js';
import type { Database } from '../../lib/adapters/postgres/database.js';
import { postgresPolicyStore } from '../../lib/adapters/postgres/policy-store.js';
import { inventoryClient } from '../../lib/adapters/rauth/inventory-client.js';
import { registrationClient } from '../../lib/adapters/rauth/registration-client.js';
import { sealer } from '../../lib/client-runtime.js';
import { createLogger } from '../../lib/observability/logger.js';
import { type DevIdp, startDevIdp } from '../../local/dev-idp.js';
import { addTenant, testDatabase } from '../support/policy-fixture.js';
import { createTestDatabase } from '../support/test-database.js';

type Fault = 'none' | 'status503' | 'error200' | 'huge' | 'lostResponse' | 'timeout' | 'databaseDown';
interface Plan {
  /** Which IdP call the fault hits, by HTTP method: POST register, PUT update/rotate, DELETE delete. */
  method: 'POST' | 'PUT' | 'DELETE';
  fault: Fault;
  /** The compensating call (the next one) fails too. */
  compensationFails?: boolean;
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
  const idpErrors: string[] = [];
  const ctx = (): MutationContext => ({ actor: 'consistency-test', requestId: randomUUID() });

  /** The fetch under the IdP adapter: honest, except for the one planned fault. */
  const faultyFetch: typeof fetch = async (input, init) => {
    const current = plan;
    const method = init?.method ?? 'GET';
    if (!current || current.method !== method) return fetch(input, init);
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
        await (await fetch(input, init)).arrayBuffer(); // the IdP did it ...
        throw new TypeError('fetch failed: socket hang up'); // ... and we never heard
      case 'timeout': {
        await (await fetch(input, init)).arrayBuffer();
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
    deps = {
      store: postgresPolicyStore(db),
      idp: registrationClient({ issuer: idp.issuer, softwareId: SOFTWARE_ID, credentials, timeoutMs: TIMEOUT_MS, maxResponseBytes: 65_536, fetch: faultyFetch, metrics, log }),
      sealer: sealer(async () => keys),
      log,
    };
    inventory = inventoryClient({ adminUrl: idp.adminApiUrl, softwareId: SOFTWARE_ID, credentials, timeoutMs: 2_000, maxResponseBytes: 1_048_576, metrics, log });
  });
  afterEach(() => {
    plan = undefined;
  });
  afterAll(async () => {
    await db.end();
    await killer.end();
    await idp.stop();
  });

  async function create(name: string): Promise<string> {
    const reply = await createClient(deps, ctx(), 'acme', { client_name: name, grant_types: ['client_credentials'], redirect_uris: [], scope: 'iam', token_endpoint_auth_method: 'client_secret_basic', roles: [] });
    return (reply.body as { client_id: string }).client_id;
  }

  /** Postgres's clients and the IdP's (ours only), with the metadata both can disagree on. */
  async function sides() {
    const byId = (a: { client_id: string }, b: { client_id: string }) => (a.client_id < b.client_id ? -1 : 1);
    const rows = await killer.query<{ client_id: string; client_name: string }>('test.clients', 'SELECT client_id, client_name FROM clients');
    const listed = (await inventory.list()).map((c) => ({ client_id: c.client_id, client_name: c.client_name }));
    return { postgres: rows.map((r) => ({ ...r })).sort(byId), idp: listed.sort(byId) };
  }

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
    ['the database goes down after the IdP updated (compensated)', { method: 'PUT', fault: 'databaseDown' }, 503, []],
    ['the database goes down and the compensation fails too', { method: 'PUT', fault: 'databaseDown', compensationFails: true }, 503, ['restored']],
  ] as const)('update: %s — the IdP ends with the metadata Postgres has, and the client stays manageable', async (_case, fault, status, restored) => {
    const name = `update-${fault.fault}-${'compensationFails' in fault ? 'twice' : 'once'}`;
    const clientId = await create(name);
    const report = await failOnce(fault, () => updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: 'renamed' }), status);
    expect(report.metadataRestored).toEqual(restored.map(() => clientId));
    expect((await sides()).idp.find((c) => c.client_id === clientId)?.client_name).toBe(name);
    // The IdP rotated the registration access token on every PUT; the row kept the newest one.
    await updateClient(deps, ctx(), 'acme', clientId, undefined, { client_name: `${name}-later` });
    expect((await sides()).idp.find((c) => c.client_id === clientId)?.client_name).toBe(`${name}-later`);
  });

  it.each([
    ['the IdP answers 5xx', { method: 'DELETE', fault: 'status503' }, 502, true],
    ['the IdP deletes but the answer is lost', { method: 'DELETE', fault: 'lostResponse' }, 502, false],
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
    const empty = { list: async () => [], delete: inventory.delete } satisfies IdpInventory;
    const report = await reconcileClients({ ...deps, inventory: empty }, { graceSeconds: 0, requestId: randomUUID() });
    expect(report).toMatchObject({ refused: expect.stringMatching(/lists none/), rowsRemoved: [] });
    expect(await sides()).toEqual(before);
  });

  it('counts every failed IdP call in idp_adapter_errors_total by operation', () => {
    expect(new Set(idpErrors)).toEqual(new Set(['create', 'update', 'delete', 'rotate']));
  });
});
