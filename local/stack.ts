/**
 * The whole service on one machine: a database (given, or embedded), migrations, the demo
 * policy, and the functions behind the local HTTP front (the HTTP API routes, keys) and a local
 * Function URL (enrich-token, SigV4 only). Used by `npm start` and the tests.
 */
import { type JsonWebKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { migrate } from '../lib/adapters/postgres/migrate.js';
import { createLogger, type Logger } from '../lib/observability/logger.js';
import { DEFAULT_AUDIENCE, startDevIdp } from './dev-idp.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { createFunctionUrl } from './function-url.js';
import { createHttpFront } from './http-front.js';
import { LOCAL_REGION, LOCAL_SERVICE, type LocalIamUser, newLocalIamUser, signingKeys } from './local-iam-user.js';
import { load, loadRoutes } from './routes.js';
import { DEMO, seedDemoPolicy } from './seed.js';
import { createSigV4Verifier } from './sigv4-verifier.js';

export interface StackOptions {
  /** Where .local state lives (embedded data, stack.json). */
  stateDir: string;
  port: number;
  /** The local Function URL's port (enrich-token with AWS_IAM); 0: any free port. */
  functionUrlPort?: number;
  /** Use this database instead of starting an embedded one. */
  databaseUrl?: string | undefined;
  /** Keys the gateway may send as X-API-Key; one is generated and kept if none is given. */
  apiKeys?: string | undefined;
  bootstrapAdminSubject: string;
  embeddedPostgresPort?: number;
  /** Use this IdP (issuer URL) instead of starting the dev IdP. */
  rauthUrl?: string | undefined;
  /** The dev IdP's port; fixed by default, since the issuer (and so every token) names it. */
  devIdpPort?: number;
  log?: Logger;
}

export interface StackInfo {
  api_url: string;
  /** Equals enrich_api_url: the route that takes an API key. */
  enrich_url: string;
  /** The HTTP API route `POST /system/enrich-token`: X-API-Key or the key as a Basic password. */
  enrich_api_url: string;
  /** The Function URL (AuthType AWS_IAM): SigV4-signed requests only, any path. */
  enrich_iam_url: string;
  forward_auth_url: string;
  api_key: string;
  /** What a local caller signs the Function URL's requests with (service `lambda`). */
  aws: { region: string; access_key_id: string; secret_access_key: string };
  database: 'embedded' | 'external';
  demo: { subject: string; tenant: string; multi_tenant_subject: string };
  curl: string;
  /** The same call to the Function URL, signed by curl (≥ 7.75) with SigV4. */
  iam_curl: string;
  idp: {
    issuer: string;
    audience: string;
    /** Present when npm start runs the dev IdP. */
    token_endpoint?: string;
    admin?: { client_id: string; client_secret: string };
    /** A platform-admin access token, valid for an hour; get a fresh one with token_curl. */
    admin_token?: string;
    token_curl?: string;
    admin_curl?: string;
  };
}

export interface RunningStack {
  info: StackInfo;
  stop(): Promise<void>;
}

interface SavedState {
  api_key?: string;
  /** The local Function URL's IAM user (access key pair). */
  aws?: LocalIamUser;
  embedded_password?: string;
  idp_admin_secret?: string;
  idp_signing_key?: JsonWebKey;
  idp_initial_access_token?: string;
  /** Seals registration access tokens in the embedded database across runs. */
  client_token_key?: string;
}

export async function startStack(options: StackOptions, env: Record<string, string | undefined>): Promise<RunningStack> {
  const log = options.log ?? createLogger('info', { service: 'iam-service', component: 'local' });
  mkdirSync(options.stateDir, { recursive: true });
  const statePath = join(options.stateDir, 'state.json');
  const saved = readJson<SavedState>(statePath);
  const apiKey = options.apiKeys?.split(',')[0]?.trim() || saved.api_key || randomBytes(32).toString('base64url');
  const password = saved.embedded_password ?? randomBytes(18).toString('base64url');
  const clientTokenKey = saved.client_token_key ?? randomBytes(32).toString('base64');
  const aws = saved.aws ?? newLocalIamUser();
  const state: SavedState = { ...saved, api_key: apiKey, aws, embedded_password: password, client_token_key: clientTokenKey };
  const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });
  save();

  const stops: Array<() => Promise<void>> = [];
  try {
    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      log.info('starting embedded PostgreSQL', { dir: join(options.stateDir, 'pg') });
      const embedded = await startEmbeddedPostgres({
        dir: join(options.stateDir, 'pg'),
        port: options.embeddedPostgresPort ?? 54329,
        password,
        database: 'iam',
        onLog: () => undefined,
      });
      stops.push(embedded.stop);
      databaseUrl = embedded.url;
    }
    let idpInfo: StackInfo['idp'];
    if (options.rauthUrl) {
      idpInfo = { issuer: options.rauthUrl, audience: env.ADMIN_TOKEN_AUDIENCE ?? DEFAULT_AUDIENCE };
    } else {
      const idp = await startDevIdp({
        port: options.devIdpPort ?? 4100,
        adminSubject: options.bootstrapAdminSubject,
        adminSecret: saved.idp_admin_secret,
        signingKey: saved.idp_signing_key,
        initialAccessToken: saved.idp_initial_access_token,
      });
      stops.push(idp.stop);
      Object.assign(state, {
        idp_admin_secret: idp.admin.client_secret,
        idp_signing_key: idp.signingKey,
        idp_initial_access_token: idp.initialAccessToken,
      });
      save();
      idpInfo = {
        issuer: idp.issuer,
        audience: idp.audience,
        token_endpoint: idp.tokenEndpoint,
        admin: idp.admin,
        admin_token: await idp.clientCredentialsToken(idp.admin),
        token_curl: `curl -s -u '${idp.admin.client_id}:${idp.admin.client_secret}' -d grant_type=client_credentials ${idp.tokenEndpoint}`,
      };
    }
    // The functions read their configuration from the environment, as on Lambda.
    Object.assign(env, {
      DATABASE_URL: databaseUrl,
      ENRICH_API_KEYS: options.apiKeys || apiKey,
      BOOTSTRAP_ADMIN_SUBJECT: options.bootstrapAdminSubject,
      RAUTH_URL: idpInfo.issuer,
      ADMIN_TOKEN_AUDIENCE: idpInfo.audience,
      // The service's own client at the dev IdP, for the health probe's token check.
      ...(idpInfo.admin ? { RAUTH_ADMIN_CLIENT_ID: idpInfo.admin.client_id, RAUTH_ADMIN_CLIENT_SECRET: idpInfo.admin.client_secret } : {}),
      // Client registration at the dev IdP (an external IdP takes these from the environment).
      ...(options.rauthUrl ? {} : { RAUTH_REGISTRATION_TOKEN: state.idp_initial_access_token, RAUTH_ADMIN_API_URL: `${idpInfo.issuer}/admin` }),
      CLIENT_TOKEN_KEYS: env.CLIENT_TOKEN_KEYS || `local:${clientTokenKey}`,
    });
    await migrate({ databaseUrl, bootstrapAdminSubject: options.bootstrapAdminSubject, log });
    const { runtime } = await import('../lib/runtime.js');
    const app = runtime(env);
    stops.unshift(() => app.db.end());
    await seedDemoPolicy(app.db);
    if (env.NATS_URL) stops.unshift(await startOutboxRelay(env, log));
    if (env.RAUTH_REGISTRATION_TOKEN && env.RAUTH_ADMIN_API_URL) stops.unshift(await startClientReconcile(env, log));

    const server = createHttpFront(await loadRoutes({ admin: true }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', resolve);
    });
    stops.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    const apiUrl = `http://127.0.0.1:${port}`;
    const enrichUrl = `${apiUrl}/system/enrich-token`;

    const functionUrl = createFunctionUrl({
      name: '/system/enrich-token',
      handler: await load('enrich-token'),
      verify: createSigV4Verifier({ region: LOCAL_REGION, service: LOCAL_SERVICE, keys: signingKeys(aws) }),
      log,
    });
    await new Promise<void>((resolve, reject) => {
      functionUrl.once('error', reject);
      functionUrl.listen(options.functionUrlPort ?? 3001, '127.0.0.1', resolve);
    });
    stops.unshift(() => new Promise<void>((resolve) => functionUrl.close(() => resolve())));
    // Like AWS's, the Function URL is a host of its own and serves every path to the function.
    const enrichIamUrl = `http://127.0.0.1:${(functionUrl.address() as AddressInfo).port}/`;
    const demoBody = `'{"subject":"${DEMO.subject}","tenant":"${DEMO.tenant}"}'`;
    const info: StackInfo = {
      api_url: apiUrl,
      enrich_url: enrichUrl,
      enrich_api_url: enrichUrl,
      enrich_iam_url: enrichIamUrl,
      forward_auth_url: `${apiUrl}/system/forward-auth`,
      api_key: apiKey,
      aws: { region: LOCAL_REGION, access_key_id: aws.access_key_id, secret_access_key: aws.secret_access_key },
      database: options.databaseUrl ? 'external' : 'embedded',
      demo: { subject: DEMO.subject, tenant: DEMO.tenant, multi_tenant_subject: DEMO.multiTenantSubject },
      curl: `curl -s -X POST ${enrichUrl} -H 'content-type: application/json' -H 'x-api-key: ${apiKey}' -d ${demoBody}`,
      iam_curl:
        `curl -s -X POST ${enrichIamUrl} --aws-sigv4 'aws:amz:${LOCAL_REGION}:${LOCAL_SERVICE}' ` +
        `--user '${aws.access_key_id}:${aws.secret_access_key}' -H 'content-type: application/json' -d ${demoBody}`,
      idp: idpInfo.admin_token
        ? { ...idpInfo, admin_curl: `curl -s ${apiUrl}/tenants -H 'authorization: Bearer ${idpInfo.admin_token}'` }
        : idpInfo,
    };
    writeFileSync(join(options.stateDir, 'stack.json'), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
    return { info, stop: () => runAll(stops) };
  } catch (error) {
    await runAll(stops);
    throw error;
  }
}

/** With NATS_URL, what the scheduled relay does in AWS: drain the outbox every few seconds. */
async function startOutboxRelay(env: Record<string, string | undefined>, log: Logger): Promise<() => Promise<void>> {
  const { eventsRuntime } = await import('../lib/events-runtime.js');
  const { drainOutbox } = await import('../lib/events/relay.js');
  const app = eventsRuntime(env);
  const publisher = app.publisher!; // called only with NATS_URL set
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = drainOutbox({ ...app, publisher }, 5_000).catch((error) => log.warn('outbox relay run failed', {}, error));
  }, 5_000);
  log.info('publishing events to NATS', { nats_host: new URL(env.NATS_URL!).host });
  return async () => {
    clearInterval(timer);
    await running;
    await publisher.close();
  };
}

/**
 * What the scheduled reconcile does in AWS, every minute. The dev IdP keeps clients in memory,
 * so after a restart this is also what removes the rows of clients it forgot.
 */
async function startClientReconcile(env: Record<string, string | undefined>, log: Logger): Promise<() => Promise<void>> {
  const { reconcileRuntime } = await import('../lib/client-runtime.js');
  const { reconcileClients } = await import('../lib/admin/reconcile.js');
  const app = reconcileRuntime(env);
  const run = () => reconcileClients(app, { graceSeconds: app.config.clients.reconcileGraceSeconds, requestId: randomUUID() }).catch((error) => log.warn('client reconcile failed', {}, error));
  let running: Promise<unknown> = run();
  const timer = setInterval(() => {
    running = run();
  }, 60_000);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

async function runAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops) await stop().catch(() => undefined);
}

function readJson<T>(path: string): Partial<T> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<T>;
  } catch {
    return {};
  }
}
