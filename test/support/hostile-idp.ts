/**
 * A misbehaving IdP on 127.0.0.1:0 for the adapters' failure tests. It serves an honest discovery
 * document, registration endpoint and Hydra-shaped admin API (`/admin/clients`) until told
 * otherwise; `behave` sets what the next answers to registration/management/admin calls (or
 * discovery) do. Every request is recorded. `useHostileIdp` gives a describe block one of them,
 * reset between tests, with the options both IdP adapters take; `expectUnavailable` is the
 * assertion every failure test shares.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from '@jest/globals';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IdpHttpOptions } from '../../lib/adapters/oidc/registration-client.js';
import type { IdpOperation } from '../../lib/adapters/oidc/transport.js';
import { IdpUnavailableError } from '../../lib/admin/idp-admin.js';
import { createLogger } from '../../lib/observability/logger.js';

/** The adapters' deadline against the hostile IdP, and how far past it a failure may come. */
export const HOSTILE_TIMEOUT_MS = 400;
export const HOSTILE_MARGIN_MS = 600;

export type Misbehaviour =
  | 'honest'
  | 'hang' // never answers
  | 'slow' // sends headers, then the body long after any sane timeout
  | 'status500'
  | 'error200' // 200 with {"error":"server_error"}
  | 'huge' // a valid 5 MB JSON body, no content-length
  | 'extraFields'
  | 'unauthorizedOnce' // 401 to the first call, then honest
  | 'rejectOddCode' // 400 with an error code that is not an RFC 7591 one
  | 'foreignUri' // registration_client_uri on another host
  | 'notArray' // admin list: an object instead of an array
  | 'foreignLink' // admin list: a next link to another origin (localhost instead of 127.0.0.1, same server)
  | 'endlessLinks'; // admin list: every page links to one more

/** The software_id of the clients the honest admin list holds for "us". */
export const HOSTILE_SOFTWARE_ID = 'iam-service';
/** The honest admin list: two of ours (one with Hydra's nulls and created_at), one of someone else's with odd metadata. */
export const HOSTILE_INVENTORY = [
  {
    client_id: 'ours-1',
    software_id: HOSTILE_SOFTWARE_ID,
    client_name: 'reports',
    grant_types: ['client_credentials'],
    redirect_uris: null,
    scope: 'iam',
    token_endpoint_auth_method: 'client_secret_basic',
    created_at: '2024-05-06T07:08:09Z',
  },
  { client_id: 'theirs-1', software_id: 'someone-else', client_name: 42, grant_types: 'not-a-list' },
  { client_id: 'ours-2', software_id: HOSTILE_SOFTWARE_ID, client_id_issued_at: 1700000000 },
];

export interface HostileIdp {
  issuer: string;
  registrationEndpoint: string;
  adminApiUrl: string;
  /** Every request; `body` fills in as it arrives (complete once the adapter has its answer). */
  requests: Array<{ method: string; path: string; host: string | undefined; authorization: string | undefined; body: string }>;
  behave(registration: Misbehaviour, discovery?: Misbehaviour): void;
  stop(): Promise<void>;
}

export async function startHostileIdp(): Promise<HostileIdp> {
  let registrationMode: Misbehaviour = 'honest';
  let discoveryMode: Misbehaviour = 'honest';
  const requests: HostileIdp['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const record = { method: req.method ?? '', path: req.url ?? '', host: req.headers.host, authorization: req.headers.authorization, body: '' };
    requests.push(record);
    req.on('data', (chunk: Buffer) => void (record.body += chunk.toString('utf8'))); // drain any body, keeping it
    const isDiscovery = req.url === '/.well-known/openid-configuration';
    const mode = isDiscovery ? discoveryMode : registrationMode;
    if (mode === 'unauthorizedOnce') registrationMode = 'honest';
    const path = new URL(req.url ?? '/', issuer).pathname;
    const honest = isDiscovery
      ? discoveryDocument()
      : path === '/admin/clients'
        ? HOSTILE_INVENTORY
        : path.startsWith('/admin/clients/')
          ? adminClient(decodeURIComponent(path.slice('/admin/clients/'.length)))
          : registrationBody(req);
    misbehave(mode, req, res, honest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const discoveryDocument = () => ({ issuer, token_endpoint: `${issuer}/token`, registration_endpoint: `${issuer}/reg` });
  /** One client as Hydra's admin API shows it: nulls, members we do not manage, no secret or registration access token. */
  const adminClient = (id: string) => ({
    client_id: id,
    software_id: HOSTILE_SOFTWARE_ID,
    client_name: 'reports',
    grant_types: ['client_credentials'],
    redirect_uris: null,
    scope: 'iam',
    token_endpoint_auth_method: 'client_secret_basic',
    audience: ['urn:kept'],
    created_at: '2024-05-06T07:08:09Z',
  });
  const registrationBody = (req: IncomingMessage) => {
    const id = req.url?.startsWith('/reg/') ? req.url.slice(5) : 'client-1';
    return {
      client_id: id,
      client_secret: 'the-secret',
      client_secret_expires_at: 0, // RFC 7591 §3.2.1: required with a client_secret (openid-client checks it)
      client_name: 'hostile',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      scope: 'iam',
      token_endpoint_auth_method: 'client_secret_basic',
      registration_client_uri: `${issuer}/reg/${id}`,
      registration_access_token: 'rat-1',
    };
  };

  function misbehave(mode: Misbehaviour, req: IncomingMessage, res: ServerResponse, honest: Record<string, unknown> | unknown[]) {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
    };
    const created = req.method === 'POST' ? 201 : req.method === 'DELETE' ? 204 : 200;
    switch (mode) {
      case 'hang':
        return;
      case 'slow': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"client_id":');
        const timer = setTimeout(() => res.end(JSON.stringify(honest).slice(1)), 60_000);
        timers.add(timer);
        return;
      }
      case 'status500':
        return json(500, { error: 'server_error' });
      case 'error200':
        return json(200, { error: 'server_error' });
      case 'huge': {
        // Valid JSON (the honest answer plus 5 MB of padding), so only a byte cap can refuse it.
        res.writeHead(created === 204 ? 200 : created, { 'content-type': 'application/json' });
        const list = Array.isArray(honest);
        res.write(list ? '[{"padding":"' : '{"padding":"');
        const chunk = Buffer.alloc(64 * 1024, 0x78);
        let sent = 0;
        const pump = () => {
          while (sent < 5 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end((list ? '"},' : '",') + JSON.stringify(honest).slice(1));
        };
        res.on('error', () => {});
        return pump();
      }
      case 'extraFields':
        return json(created, { ...honest, surprise: '<script>', client_secret_expires_at: 0, nested: { deep: true } });
      case 'unauthorizedOnce':
        return json(401, { error: 'invalid_token' });
      case 'rejectOddCode':
        return json(400, { error: 'internal_db_detail', error_description: 'table clients: constraint x' });
      case 'foreignUri':
        return json(created, { ...honest, registration_client_uri: 'http://169.254.169.254/latest/meta-data' });
      case 'notArray':
        return json(200, { clients: honest });
      case 'foreignLink':
        return json(200, honest, { link: `<http://localhost:${port}/admin/clients?page_token=2>; rel="next"` });
      case 'endlessLinks': {
        const page = Number(new URL(req.url ?? '/', issuer).searchParams.get('page_token') ?? 0);
        return json(200, honest, { link: `</admin/clients?page_token=${page + 1}>; rel="next"` });
      }
      case 'honest':
        return created === 204 ? res.writeHead(204).end() : json(created, honest);
    }
  }

  return {
    issuer,
    registrationEndpoint: `${issuer}/reg`,
    adminApiUrl: `${issuer}/admin`,
    requests,
    behave(registration, discovery = 'honest') {
      registrationMode = registration;
      discoveryMode = discovery;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Records `idp_adapter_errors_total` increments by operation, as the adapters report them. */
export function idpErrorCounter() {
  const calls: string[] = [];
  return { calls, idpError: (operation: string) => void calls.push(operation) };
}

export interface HostileFixture {
  readonly idp: HostileIdp;
  readonly metrics: ReturnType<typeof idpErrorCounter>;
  /** How often `options().credentials` was read in this test; it hands out `iat-1`, `iat-2`, ... */
  readonly credentialReads: number;
  /** What both IdP adapters take: counting credentials, the short deadline, a 64 KiB cap, the counter, a silent log. */
  options(): IdpHttpOptions;
}

/** One hostile IdP for the calling describe block, honest again and with a clean record for every test. */
export function useHostileIdp(): HostileFixture {
  let idp: HostileIdp | undefined;
  let metrics = idpErrorCounter();
  let credentialReads = 0;
  beforeAll(async () => {
    idp = await startHostileIdp();
  });
  afterAll(() => idp?.stop());
  beforeEach(() => {
    metrics = idpErrorCounter();
    credentialReads = 0;
    if (idp) idp.requests.length = 0;
  });
  afterEach(() => idp?.behave('honest'));
  return {
    get idp() {
      if (!idp) throw new Error('the hostile IdP is not started yet');
      return idp;
    },
    get metrics() {
      return metrics;
    },
    get credentialReads() {
      return credentialReads;
    },
    options: () => ({
      credentials: async () => ({ initialAccessToken: `iat-${++credentialReads}` }),
      timeoutMs: HOSTILE_TIMEOUT_MS,
      maxResponseBytes: 64 * 1024,
      metrics,
      log: createLogger('error', {}, () => {}),
    }),
  };
}

/**
 * `call` fails as the IdP being unavailable (502, not exposed), within the deadline, counted once
 * as `operation`, with no token in its message. Resolves to the time it took.
 */
export async function expectUnavailable(fixture: HostileFixture, operation: IdpOperation, call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = performance.now() - started;
  expect(error).toBeInstanceOf(IdpUnavailableError);
  expect(error).toMatchObject({ status: 502, code: 'idp-unavailable', expose: false, operation });
  expect((error as Error).message).not.toMatch(/server_error|rat-1|iat-/);
  expect(elapsed).toBeLessThan(HOSTILE_TIMEOUT_MS + HOSTILE_MARGIN_MS);
  expect(fixture.metrics.calls).toEqual([operation]);
  return elapsed;
}
