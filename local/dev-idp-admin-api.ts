/** The dev IdP's Hydra-shaped admin API (list and delete clients), for reconcile's inventory adapter. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MemoryStore } from './dev-idp-store.js';

export const ADMIN_PATH = '/admin';
const ADMIN_CLIENTS_PATH = `${ADMIN_PATH}/clients`;
const ADMIN_DEFAULT_PAGE_SIZE = 250; // Hydra's default and maximum page sizes
const ADMIN_MAX_PAGE_SIZE = 500;

/**
 * The Hydra-shaped admin API over this IdP's store, for the inventory adapter
 * (lib/adapters/rauth/inventory-client.ts). Answers false for a request that is not its own.
 * Lists the dynamically registered clients (static ones never reach the adapter), never their
 * secrets. Pages are keyset pages in client_id order, so a deletion between pages skips no one.
 */
export function adminApi(o: { issuer: string; store: MemoryStore; initialAccessToken: string }) {
  const expected = digest(`Bearer ${o.initialAccessToken}`);
  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    if (body === undefined) return void res.writeHead(status, headers).end();
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
  };

  const clients = () => {
    const now = Date.now();
    const listed: Array<Record<string, unknown> & { client_id: string }> = [];
    for (const [key, { payload, expiresAt }] of o.store) {
      if (!key.startsWith('Client:') || expiresAt <= now) continue;
      const { client_secret: _secret, ...metadata } = payload as Record<string, unknown> & { client_id: string };
      const issuedAt = metadata.client_id_issued_at;
      listed.push({ ...metadata, ...(typeof issuedAt === 'number' ? { created_at: new Date(issuedAt * 1000).toISOString() } : {}) });
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

  function remove(res: ServerResponse, id: string) {
    const entry = o.store.get(`Client:${id}`);
    if (!entry || entry.expiresAt <= Date.now()) return send(res, 404, { error: 'not_found', error_description: 'Unable to locate the resource' });
    o.store.delete(`Client:${id}`);
    // Its registration access tokens (and anything else issued to it) go too.
    for (const [key, { payload }] of o.store) if (payload.clientId === id) o.store.delete(key);
    send(res, 204);
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', o.issuer);
    if (url.pathname !== ADMIN_PATH && !url.pathname.startsWith(`${ADMIN_PATH}/`)) return false;
    req.resume(); // no request body is read
    const authorization = req.headers.authorization;
    if (!authorization || !timingSafeEqual(digest(authorization), expected)) {
      send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer' });
    } else if (url.pathname === ADMIN_CLIENTS_PATH) {
      if (req.method === 'GET') list(res, url.searchParams);
      else send(res, 405, { error: 'method_not_allowed' }, { allow: 'GET' });
    } else if (url.pathname.startsWith(`${ADMIN_CLIENTS_PATH}/`) && !url.pathname.slice(ADMIN_CLIENTS_PATH.length + 1).includes('/')) {
      const id = decodedSegment(url.pathname.slice(ADMIN_CLIENTS_PATH.length + 1));
      if (req.method !== 'DELETE') send(res, 405, { error: 'method_not_allowed' }, { allow: 'DELETE' });
      else if (id === undefined) send(res, 400, { error: 'invalid_request' });
      else remove(res, id);
    } else {
      send(res, 404, { error: 'not_found' });
    }
    return true;
  };
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
