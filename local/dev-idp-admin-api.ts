/** The dev IdP's Hydra-shaped admin API (list, read, replace and delete clients), for the inventory adapter. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemoryStore } from './dev-idp-store.js';

export const ADMIN_PATH = '/admin';
const ADMIN_CLIENTS_PATH = `${ADMIN_PATH}/clients`;
const ADMIN_DEFAULT_PAGE_SIZE = 250; // Hydra's default and maximum page sizes
const ADMIN_MAX_PAGE_SIZE = 500;
const ADMIN_MAX_BODY_BYTES = 64 * 1024;
/** Hydra refuses a client_secret shorter than this on its admin API. */
const MIN_SECRET_LENGTH = 6;
/** Members a replacement body cannot set: the server's own, or what Hydra never reads from a body. */
const SERVER_MEMBERS = ['client_id', 'client_secret', 'client_secret_expires_at', 'client_id_issued_at', 'created_at', 'updated_at', 'registration_access_token', 'registration_client_uri'];

type Payload = Record<string, unknown> & { client_id: string };

/**
 * The Hydra-shaped admin API over this IdP's store, for the inventory adapter
 * (lib/adapters/oidc/inventory-client.ts). Answers false for a request that is not its own.
 * Lists the dynamically registered clients (static ones never reach the adapter), never their
 * secrets. Pages are keyset pages in client_id order, so a deletion between pages skips no one.
 *
 * It does only what Hydra's admin API does (ory/hydra client/handler.go, persistence/sql/
 * persister_client.go), so the local stack is no kinder than the real thing:
 * - `GET /clients/{id}` never carries a registration access token or URI (Hydra keeps only the
 *   token's hash) and never the secret;
 * - `PUT /clients/{id}` replaces the client with the body (what it leaves out is reset); a
 *   `client_secret` in it becomes the secret (the old one fails at once) and is echoed, else the
 *   secret is kept; and every registration access token of the client dies (Hydra's PUT writes an
 *   empty token hash: its body cannot carry one). Nothing issues a new registration access token.
 * `validate` checks a client as the provider checks a registration (oidc-provider's Client schema).
 */
export function adminApi(o: {
  issuer: string;
  store: MemoryStore;
  initialAccessToken: string;
  /** The other registration credential (a client-credentials token for registration), checked when the bearer is not the initial access token. */
  accepts?: (token: string) => Promise<boolean>;
  validate: (properties: Payload) => Promise<void>;
}) {
  const expected = digest(`Bearer ${o.initialAccessToken}`);
  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    if (body === undefined) return void res.writeHead(status, headers).end();
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
  };

  /** A client as the admin API shows it: no secret, Hydra's `created_at`. */
  const view = (payload: Payload): Payload => {
    const { client_secret: _secret, ...metadata } = payload;
    const issuedAt = metadata.client_id_issued_at;
    return { ...metadata, ...(typeof issuedAt === 'number' ? { created_at: new Date(issuedAt * 1000).toISOString() } : {}) };
  };
  const held = (id: string): Payload | undefined => {
    const entry = o.store.get(`Client:${id}`);
    return entry && entry.expiresAt > Date.now() ? (entry.payload as Payload) : undefined;
  };
  const notFound = (res: ServerResponse) => send(res, 404, { error: 'not_found', error_description: 'Unable to locate the resource' });

  const clients = () => {
    const now = Date.now();
    const listed: Payload[] = [];
    for (const [key, { payload, expiresAt }] of o.store) {
      if (key.startsWith('Client:') && expiresAt > now) listed.push(view(payload as Payload));
    }
    return listed.sort((a, b) => (a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0));
  };

  function list(res: ServerResponse, query: URLSearchParams) {
    const size = Number(query.get('page_size') ?? ADMIN_DEFAULT_PAGE_SIZE);
    if (!Number.isInteger(size) || size < 1 || size > ADMIN_MAX_PAGE_SIZE) {
      return send(res, 400, { error: 'invalid_request', error_description: `page_size must be 1 to ${ADMIN_MAX_PAGE_SIZE}` });
    }
    const token = query.get('page_token');
    const after = token === null ? undefined : Buffer.from(token, 'base64url').toString('utf8');
    const remaining = clients().filter((client) => after === undefined || client.client_id > after);
    const page = remaining.slice(0, size);
    const link = (pageToken?: string) => {
      const target = new URL(`${o.issuer}${ADMIN_CLIENTS_PATH}`);
      target.searchParams.set('page_size', String(size));
      if (pageToken !== undefined) target.searchParams.set('page_token', pageToken);
      return `<${target.href}>`;
    };
    const links = [`${link()}; rel="first"`];
    if (remaining.length > size) links.push(`${link(Buffer.from(page.at(-1)!.client_id).toString('base64url'))}; rel="next"`);
    send(res, 200, page, { link: links.join(',') });
  }

  function read(res: ServerResponse, id: string) {
    const client = held(id);
    if (!client) return notFound(res);
    send(res, 200, view(client));
  }

  async function replace(res: ServerResponse, id: string, body: unknown) {
    const previous = held(id);
    if (!previous) return notFound(res);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return send(res, 400, { error: 'invalid_request', error_description: 'body must be a JSON object' });
    const given = body as Record<string, unknown>;
    const secret = given.client_secret;
    if (secret !== undefined && secret !== '' && (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH)) {
      return send(res, 400, { error: 'invalid_client_metadata', error_description: `client_secret must be at least ${MIN_SECRET_LENGTH} characters` });
    }
    const createdAt = typeof given.created_at === 'string' ? Date.parse(given.created_at) : NaN;
    const properties: Payload = {
      ...Object.fromEntries(Object.entries(given).filter(([key, value]) => !SERVER_MEMBERS.includes(key) && value !== null)),
      client_id: id,
      // Hydra keeps created_at only when the body carries it.
      client_id_issued_at: Math.floor((Number.isNaN(createdAt) ? Date.now() : createdAt) / 1000),
      client_secret: typeof secret === 'string' && secret !== '' ? secret : previous.client_secret,
      client_secret_expires_at: 0,
    };
    try {
      await o.validate(properties);
    } catch (error) {
      const code = (error as { error?: unknown }).error;
      return send(res, 400, { error: typeof code === 'string' ? code : 'invalid_client_metadata', error_description: (error as Error).message });
    }
    o.store.set(`Client:${id}`, { payload: properties, expiresAt: Infinity });
    for (const [key, { payload }] of o.store) if (key.startsWith('RegistrationAccessToken:') && payload.clientId === id) o.store.delete(key);
    send(res, 200, { ...view(properties), ...(typeof secret === 'string' && secret !== '' ? { client_secret: secret } : {}) });
  }

  function remove(res: ServerResponse, id: string) {
    if (!held(id)) return notFound(res);
    o.store.delete(`Client:${id}`);
    // Its registration access tokens (and anything else issued to it) go too.
    for (const [key, { payload }] of o.store) if (payload.clientId === id) o.store.delete(key);
    send(res, 204);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL) {
    const body = req.method === 'PUT' ? await jsonBody(req) : (req.resume(), undefined);
    const authorization = req.headers.authorization;
    const bearer = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    const authorized =
      (authorization !== undefined && timingSafeEqual(digest(authorization), expected)) || (bearer !== undefined && o.accepts !== undefined && (await o.accepts(bearer)));
    if (!authorized) {
      send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer' });
    } else if (url.pathname === ADMIN_CLIENTS_PATH) {
      if (req.method === 'GET') list(res, url.searchParams);
      else send(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
    } else if (url.pathname.startsWith(`${ADMIN_CLIENTS_PATH}/`) && !url.pathname.slice(ADMIN_CLIENTS_PATH.length + 1).includes('/')) {
      const id = decodedSegment(url.pathname.slice(ADMIN_CLIENTS_PATH.length + 1));
      if (!['GET', 'PUT', 'DELETE'].includes(req.method ?? '')) send(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, PUT, DELETE' });
      else if (id === undefined) send(res, 400, { error: 'invalid_request' });
      else if (req.method === 'GET') read(res, id);
      else if (req.method === 'PUT') await (body === INVALID ? send(res, 400, { error: 'invalid_request', error_description: 'body is not JSON' }) : replace(res, id, body));
      else remove(res, id);
    } else {
      send(res, 404, { error: 'not_found' });
    }
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', o.issuer);
    if (url.pathname !== ADMIN_PATH && !url.pathname.startsWith(`${ADMIN_PATH}/`)) return false;
    serve(req, res, url).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
      else res.destroy();
    });
    return true;
  };
}

const INVALID = Symbol('invalid body');

/** The request body as JSON, at most ADMIN_MAX_BODY_BYTES; INVALID when it is not. */
async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length; // read to the end (so the answer can still be sent), keep only the cap
    if (total <= ADMIN_MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (total > ADMIN_MAX_BODY_BYTES) return INVALID;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return INVALID;
  }
}

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
