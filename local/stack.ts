/**
 * The whole service on one machine: a database (given, or embedded), migrations, the demo
 * policy, and the functions behind the local HTTP front (the HTTP API routes, keys) and a local
 * Function URL (enrich-token, SigV4 only). Used by `npm start` and the tests.
 */
import { type JsonWebKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { migrate } from '../lib/adapters/postgres/migration-runner.js';
import { createLogger, type Logger } from '../lib/observability/logger.js';
import { DEFAULT_AUDIENCE, startDevIdp } from './dev-idp.js';
import { startEmbeddedPostgres, stopLeftoverPostgres } from './embedded-postgres.js';
import { type EventsInfo, startOutboxRelay } from './events.js';
import { checkFunctionEnv, functionEnv } from './function-env.js';
import { createFunctionUrl } from './function-url.js';
import { createHttpFront } from './http-front.js';
import { LOCAL_REGION, LOCAL_SERVICE, type LocalIamUser, newLocalIamUser, signingKeys } from './local-iam-user.js';
import { startLocalNats } from './local-nats.js';
import { assertPortsFree, explainListenError, listen } from './tcp-ports.js';
import { type ReadyRequests, writeReadyRequests } from './requests.js';
import { load, loadRoutes } from './routes.js';
import { DEMO, seedDemoPolicy } from './seed.js';
import { createSigV4Verifier } from './sigv4-verifier.js';
import { LocalStartError, oneLine } from './start-errors.js';
import { acquireStartLock } from './start-lock.js';

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
  /** IAM_LOCAL_NATS=1: run a nats-server for events (local/nats-server.conf, free ports). */
  localNats?: boolean;
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
  /** Ready-made requests in the dialects' shapes (.local/requests/) and the command that sends each. */
  requests: ReadyRequests;
  /** Present with NATS_URL or IAM_LOCAL_NATS=1. */
  events?: EventsInfo;
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
  const statePath = join(options.stateDir, 'state.json');
  const saved = readJson<SavedState>(statePath);
  const devIdp = !options.rauthUrl;
  const need = {
    api: { port: options.port, variable: 'PORT', what: 'the HTTP API' },
    functionUrl: { port: options.functionUrlPort ?? 3001, variable: 'FUNCTION_URL_PORT', what: "enrich-token's Function URL" },
    postgres: { port: options.embeddedPostgresPort ?? 54329, variable: 'EMBEDDED_PG_PORT', what: 'embedded PostgreSQL' },
    idp: { port: options.devIdpPort ?? 4100, variable: 'DEV_IDP_PORT', what: 'the dev IdP' },
  };
  if (options.localNats && env.NATS_URL) {
    throw new LocalStartError('NATS_URL and IAM_LOCAL_NATS=1 are both set: unset NATS_URL for a nats-server of npm start, or IAM_LOCAL_NATS to use yours');
  }
  // The functions' own configuration check, before anything is written to .local (the database,
  // the dev IdP and a local nats-server are not up yet: stand-ins of the right shape take their place).
  const issuerDraft = options.rauthUrl ?? `http://127.0.0.1:${need.idp.port}`;
  const secrets = checkFunctionEnv(env, saved, { apiKeys: options.apiKeys }, (draft) =>
    functionEnv(env, {
      databaseUrl: options.databaseUrl ?? `postgres://postgres@127.0.0.1:${need.postgres.port}/iam`,
      apiKeys: options.apiKeys || draft.apiKey,
      bootstrapAdminSubject: options.bootstrapAdminSubject,
      issuer: issuerDraft,
      audience: env.ADMIN_TOKEN_AUDIENCE || DEFAULT_AUDIENCE,
      devIdpRegistration: devIdp ? { token: 'initial-access-token-of-the-dev-idp', adminApiUrl: `${issuerDraft}/admin` } : undefined,
      clientTokenKey: draft.clientTokenKey,
      natsUrl: options.localNats ? 'ws://127.0.0.1:4223' : undefined,
    }),
  );

  mkdirSync(options.stateDir, { recursive: true });
  const lock = acquireStartLock(options.stateDir);
  const stops: Array<() => Promise<void>> = [];
  try {
    if (lock.tookOverFrom !== undefined) log.warn('took over .local from an npm start that is no longer running', { pid: lock.tookOverFrom });
    for (const repaired of secrets.repaired) log.warn(`repaired .local/state.json: ${repaired}`);
    if (!options.databaseUrl) {
      const leftover = await stopLeftoverPostgres(join(options.stateDir, 'pg'));
      if (leftover) log.warn('stopped the embedded PostgreSQL an earlier npm start left running', { pid: leftover });
    }
    await assertPortsFree([need.api, need.functionUrl, ...(options.databaseUrl ? [] : [need.postgres]), ...(devIdp ? [need.idp] : [])]);

    const apiKey = secrets.apiKey;
    const password = saved.embedded_password ?? randomBytes(18).toString('base64url');
    const aws = saved.aws ?? newLocalIamUser();
    const state: SavedState = { ...saved, api_key: apiKey, aws, embedded_password: password, client_token_key: secrets.clientTokenKey };
    const save = () => writeFileSync(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });
    save();

    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      log.info('starting embedded PostgreSQL', { dir: join(options.stateDir, 'pg') });
      const embedded = await startEmbeddedPostgres({
        dir: join(options.stateDir, 'pg'),
        port: need.postgres.port,
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
        port: need.idp.port,
        adminSubject: options.bootstrapAdminSubject,
        adminSecret: saved.idp_admin_secret,
        signingKey: saved.idp_signing_key,
        initialAccessToken: saved.idp_initial_access_token,
        // Registered clients outlive a restart, as their rows in the database do.
        storeFile: join(options.stateDir, 'dev-idp.json'),
      }).catch((error: unknown) => {
        throw explainListenError(error, need.idp);
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
    let natsUrl: string | undefined;
    if (options.localNats) {
      const nats = await startLocalNats({ dir: join(options.stateDir, 'nats') });
      stops.unshift(nats.stop);
      natsUrl = nats.url;
      log.info('started a nats-server for events (IAM_LOCAL_NATS=1)', { pid: nats.pid, nats_url: nats.url, data: join(options.stateDir, 'nats') });
    }
    // The functions read their configuration from the environment, as on Lambda.
    const given = functionEnv(env, {
      databaseUrl,
      apiKeys: options.apiKeys || apiKey,
      bootstrapAdminSubject: options.bootstrapAdminSubject,
      issuer: idpInfo.issuer,
      audience: idpInfo.audience,
      adminClient: idpInfo.admin,
      devIdpRegistration: devIdp ? { token: state.idp_initial_access_token!, adminApiUrl: `${idpInfo.issuer}/admin` } : undefined,
      clientTokenKey: secrets.clientTokenKey,
      natsUrl,
    });
    Object.assign(env, given);
    try {
      await migrate({ databaseUrl, bootstrapAdminSubject: options.bootstrapAdminSubject, log });
    } catch (error) {
      if (!options.databaseUrl) throw error;
      const { host, pathname } = new URL(options.databaseUrl);
      throw new LocalStartError(`DATABASE_URL: the database at ${host}${pathname} cannot be migrated: ${oneLine(error)}`, { cause: error });
    }
    const { runtime } = await import('../lib/wiring/base.js');
    const app = runtime(env);
    stops.unshift(() => app.db.end());
    await seedDemoPolicy(app.db);
    let events: EventsInfo | undefined;
    if (env.NATS_URL) {
      const relay = await startOutboxRelay(env, log, options.localNats === true);
      stops.unshift(relay.stop);
      events = relay.info;
    }
    if (env.RAUTH_REGISTRATION_TOKEN && env.RAUTH_ADMIN_API_URL) stops.unshift(await startClientReconcile(env, log));

    const server = createHttpFront(await loadRoutes({ admin: true }));
    await listen(server, need.api);
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
    await listen(functionUrl, need.functionUrl);
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
      requests: writeReadyRequests(options.stateDir, { enrichUrl, apiKey }),
      ...(events ? { events } : {}),
    };
    writeFileSync(join(options.stateDir, 'stack.json'), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
    // What `npm run invoke` runs a function with (local/invoke.ts).
    writeFileSync(join(options.stateDir, 'function-env.json'), JSON.stringify(given, null, 2) + '\n', { mode: 0o600 });
    return {
      info,
      stop: async () => {
        await runAll(stops);
        lock.release();
      },
    };
  } catch (error) {
    await runAll(stops);
    lock.release();
    throw error;
  }
}

/**
 * What the scheduled reconcile does in AWS, every minute. The dev IdP keeps its clients in
 * `.local/dev-idp.json`, so after a restart this finds nothing to repair; it repairs what a lost
 * answer left, as in AWS, and the rows of clients whose IdP state was deleted with that file.
 */
async function startClientReconcile(env: Record<string, string | undefined>, log: Logger): Promise<() => Promise<void>> {
  const { reconcileRuntime } = await import('../lib/wiring/clients.js');
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
