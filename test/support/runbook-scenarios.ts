/**
 * Breaks things the way RUNBOOK.md's alerts describe, in one Node process, so that
 * test/integration/runbook-log-fields.test.ts can check the runbook's queries against the log
 * lines the functions really print (stdout, as Lambda ships it to CloudWatch).
 *
 * Run by that test with DATABASE_URL naming a migrated test database; it writes only to it.
 * The functions share one configuration, as one stage would: the primary is real; the reader
 * enrich-token uses refuses connections; the secret store, R-Auth and NATS are down; R-Auth's
 * admin API is a small fake below, for the faults the dev IdP cannot be made to show.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cloudEvent } from '../../lib/events/catalog.js';
import { invoke } from './invoke.js';
import { testDatabase } from './policy-fixture.js';

const KEY = 'runbook-log-fields-gateway-key-0123456789';
const SOFTWARE_ID = 'urn:citadel:iam-service:runbook-test';

type AdminMode = 'orphan-undeletable' | 'unauthorized' | 'hang';

/** Lists one old client of ours and answers 500 to deleting it; or 401; or never answers. */
async function startAdminApi() {
  let mode: AdminMode = 'orphan-undeletable';
  const server: Server = createServer((req, res) => {
    req.resume();
    if (mode === 'hang') return;
    if (mode === 'unauthorized') return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
    if (req.method === 'GET' && req.url?.startsWith('/admin/clients')) {
      const orphan = { client_id: 'orphan-1', software_id: SOFTWARE_ID, client_name: 'lost', grant_types: ['client_credentials'], created_at: '2024-01-01T00:00:00Z' };
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([orphan]));
    }
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`,
    mode: (next: AdminMode) => void (mode = next),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const expectFailure = async (what: string, run: () => Promise<unknown>) => {
  try {
    await run();
  } catch {
    return;
  }
  throw new Error(`${what} did not fail`);
};

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must name a migrated test database');

// 1. A cold start with a bad configuration (a client function: three runtimes nested).
const { clientRuntime } = await import('../../lib/wiring/clients.js');
await expectFailure('a bad configuration', async () => clientRuntime({ DATABASE_URL: 'mysql://db.internal/iam', RAUTH_URL: 'not a url' }));

const db = testDatabase(url);
const event = cloudEvent('citadel.iam.tenant.created', 'tenants/acme', 'runbook-test', { slug: 'acme' });
await db.query('test.unpublished', 'INSERT INTO outbox (id, subject, event) VALUES ($1, $2, $3)', [event.id, event.type, JSON.stringify(event)]);
await db.query(
  'test.old',
  `INSERT INTO outbox (id, subject, event, created_at, published_at) VALUES (gen_random_uuid(), 'x', '{}', now() - interval '30 days', now() - interval '30 days')`,
);
await db.end();

const adminApi = await startAdminApi();
Object.assign(process.env, {
  DATABASE_URL: url,
  DATABASE_READ_URL: 'postgres://iam@127.0.0.1:1/iam',
  DB_CONNECT_TIMEOUT_MS: '1000',
  ENRICH_API_KEYS_SECRET_ID: 'iam-service/runbook/enrich-api-keys',
  SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:1',
  SECRETS_TIMEOUT_MS: '500',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDRUNBOOKTEST',
  AWS_SECRET_ACCESS_KEY: 'runbook-test-secret-access-key',
  RAUTH_URL: 'http://127.0.0.1:1',
  RAUTH_ADMIN_API_URL: adminApi.url,
  RAUTH_REGISTRATION_TOKEN: 'runbook-test-registration-token',
  RAUTH_SOFTWARE_ID: SOFTWARE_ID,
  CLIENT_TOKEN_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  IDP_TIMEOUT_MS: '500',
  NATS_URL: 'ws://127.0.0.1:1',
  NATS_CONNECT_TIMEOUT_MS: '500',
});

// 2. enrich-token: the reader refuses connections; the API key's secret cannot be read.
const enrich = (await import('../../functions/enrich-token.js')).handler;
const iam = { accountId: '123456789012', userArn: 'arn:aws:iam::123456789012:role/gateway' };
for (const answer of [await invoke(enrich, { iam, body: { subject: 'alice' } }), await invoke(enrich, { headers: { 'x-api-key': KEY }, body: { subject: 'alice' } })]) {
  if (answer.status !== 503) throw new Error(`enrich-token answered ${answer.status}, not 503`);
}

// 3. The IdP health probe, R-Auth down.
await (await import('../../functions/idp-health.js')).scheduled();

// 4. Reconcile: an orphan R-Auth will not delete; then R-Auth refusing our token, hanging, gone.
const reconcile = (await import('../../functions/client-reconcile.js')).handler;
await reconcile(undefined, { awsRequestId: 'reconcile-orphan' });
for (const mode of ['unauthorized', 'hang'] as const) {
  adminApi.mode(mode);
  await expectFailure(`reconcile against an admin API that is ${mode}`, () => reconcile(undefined, { awsRequestId: `reconcile-${mode}` }));
}
await adminApi.stop();
// The first call may still meet the connection the stop closed ("other side closed"); the
// second finds nothing listening (ECONNREFUSED).
for (const attempt of [1, 2]) await expectFailure('reconcile against no admin API', () => reconcile(undefined, { awsRequestId: `reconcile-gone-${attempt}` }));

// 5. The outbox relay, NATS down, one old published event to sweep.
await (await import('../../functions/outbox-relay.js')).handler();

await (await import('../../lib/wiring/base.js')).runtime().db.end();
process.exit(0); // NATS and SDK clients may hold timers; the lines are written
