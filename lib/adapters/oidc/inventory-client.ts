/**
 * The IdP inventory adapter: the IdP's admin API in the shape of Ory Hydra's, which the dev IdP
 * serves too (local/dev-idp.ts).
 *
 * - `GET {adminUrl}/clients?page_size=N` answers a JSON array of clients; the next page is named
 *   by the `Link` header's `rel="next"` (RFC 8288), absolute or relative to the page.
 * - `DELETE {adminUrl}/clients/{id}` answers 204; a 404 means the client is already gone.
 * - `replace` reads `GET {adminUrl}/clients/{id}` and sends it back by `PUT` with our metadata (and
 *   `software_id`) over it, so the IdP's other members survive Hydra's full replace. A new secret
 *   is generated here (32 random bytes) and sent as `client_secret`: Hydra then uses it, drops
 *   the old one and its rotated ones at once, and echoes it. Hydra's PUT also clears the client's
 *   registration access token hash (its body cannot carry one), which the dev IdP mirrors.
 * - Reconcile deletes what the list does not name, so a list is all pages or an error, never a
 *   part: a next link off the admin API's origin (the bearer token would follow it), a loop, or
 *   more than `maxPages` pages fail the whole list, as does any of our clients that is malformed.
 * - Clients not tagged with our `software_id` are dropped unread: another tenant's odd metadata
 *   must not break our list.
 * - Deadlines, byte caps, refused redirects and error counting: ./transport.ts; the admin API takes
 *   the registration credential, read again once after a 401: ./registration-credential.ts.
 */
import { randomBytes } from 'node:crypto';
import * as z from '../../schema.js';
import { IdpClientGoneError, IdpRejectedError, type IdpInventory, type InventoryClient } from '../../admin/idp-admin.js';
import { metadataBody, type IdpHttpOptions } from './registration-client.js';
import { withRegistrationCredential } from './registration-credential.js';
import { idpTransport, parseJsonObject, Trouble, type IdpAnswer, type IdpOperation } from './transport.js';

export interface InventoryClientOptions extends IdpHttpOptions {
  /** The admin API's base, e.g. `https://idp.internal/admin`; `/clients` is appended. */
  adminUrl: string;
  /** Only clients registered with this RFC 7591 `software_id` are listed. */
  softwareId: string;
  /** Clients asked for per page (Hydra's `page_size`); default 200. */
  pageSize?: number | undefined;
  /** Pages followed before the list is given up as endless; default 100. */
  maxPages?: number | undefined;
}

/** What `replace` never sends back as read: our metadata (set afresh), the secret and the registration members. */
const REPLACED_MEMBERS = new Set([
  'client_name',
  'grant_types',
  'redirect_uris',
  'response_types',
  'scope',
  'token_endpoint_auth_method',
  'client_secret',
  'registration_access_token',
  'registration_client_uri',
]);

const DEFAULT_PAGE_SIZE = 200;
const DEFAULT_MAX_PAGES = 100;

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
// Hydra writes `null` for unset lists and strings; they read as unset.
const unset = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema));
const clientSchema = z.object({
  client_id: text(255),
  client_name: unset(z.string().check(z.maxLength(1024))),
  grant_types: unset(z.array(text(255)).check(z.maxLength(32))),
  redirect_uris: unset(z.array(text(2048)).check(z.maxLength(64))),
  scope: unset(z.string().check(z.maxLength(4096))),
  token_endpoint_auth_method: unset(z.string().check(z.maxLength(255))),
  /** RFC 7591, epoch seconds (oidc-provider). */
  client_id_issued_at: unset(z.int().check(z.minimum(0))),
  /** Hydra, RFC 3339. */
  created_at: unset(z.string().check(z.maxLength(64), z.refine((value) => !Number.isNaN(Date.parse(value))))),
});
type ListedClient = z.infer<typeof clientSchema>;

export function inventoryClient(options: InventoryClientOptions): IdpInventory {
  const http = options.transport ?? idpTransport(options);
  /** An admin-API call with the registration credential (read again once after a 401). */
  const authorized = (operation: IdpOperation, url: URL, request: { method: string; body?: unknown }) =>
    withRegistrationCredential(options.credentials, options.log, operation, (token) => http.exchange(url, { ...request, token }));
  const base = new URL(options.adminUrl.endsWith('/') ? options.adminUrl : `${options.adminUrl}/`);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;

  /** One page: our clients on it and the URL of the next page, if any. */
  async function page(url: URL): Promise<{ clients: InventoryClient[]; next: URL | undefined }> {
    const answer = await authorized('list', url, { method: 'GET' });
    if (answer.status !== 200) throw new Trouble(`IdP answered ${answer.status}`, answer.status);
    let items: unknown;
    try {
      items = JSON.parse(answer.bytes.toString('utf8'));
    } catch (cause) {
      throw new Trouble('client list is not JSON', answer.status, { cause });
    }
    if (!Array.isArray(items)) throw new Trouble('client list is not an array', answer.status);
    const clients: InventoryClient[] = [];
    for (const item of items) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new Trouble('client list holds a non-object', answer.status);
      if ((item as Record<string, unknown>).software_id !== options.softwareId) continue;
      const parsed = clientSchema.safeParse(item);
      if (!parsed.success) throw new Trouble('malformed client in list', answer.status, { cause: parsed.error });
      clients.push(toInventoryClient(parsed.data));
    }
    return { clients, next: nextPage(answer.headers.get('link'), url) };
  }

  /** The `rel="next"` target, resolved against the page; it must stay on the admin API. */
  function nextPage(header: string | null, current: URL): URL | undefined {
    const target = nextLink(header);
    if (target === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(target, current);
    } catch (cause) {
      throw new Trouble('next page link is not a URL', undefined, { cause });
    }
    if (url.origin !== base.origin) throw new Trouble('next page link leaves the admin API');
    return url;
  }

  /** `{adminUrl}/clients/{id}`; `.` and `..` would be resolved away as path segments, aiming the call elsewhere. */
  function clientUrl(clientId: string): URL {
    if (clientId === '' || clientId === '.' || clientId === '..') throw new Trouble('client_id is not a path segment');
    return new URL(`clients/${encodeURIComponent(clientId)}`, base);
  }

  /** A 200 whose body is a JSON object naming this client, else the right error. */
  function oneClient(answer: IdpAnswer, clientId: string): Record<string, unknown> {
    if (answer.status === 404) throw new IdpClientGoneError(clientId);
    if (answer.status === 400) {
      const code = parseJsonObject(answer.bytes)?.error;
      throw new IdpRejectedError(typeof code === 'string' ? code : undefined);
    }
    if (answer.status !== 200) throw new Trouble(`IdP answered ${answer.status}`, answer.status);
    const body = parseJsonObject(answer.bytes);
    if (!body) throw new Trouble('client is not a JSON object', answer.status);
    if ('error' in body) throw new Trouble('success status carrying an error member', answer.status);
    if (body.client_id !== clientId) throw new Trouble('response names another client', answer.status);
    return body;
  }

  return {
    async replace(clientId, metadata, replaceOptions) {
      const operation = replaceOptions?.newSecret ? 'rotate' : 'update';
      return http.guarded(operation, async () => {
        const url = clientUrl(clientId);
        const held = oneClient(await authorized(operation, url, { method: 'GET' }), clientId);
        // Ours are set from `metadata` alone (an empty scope is sent as none: the held one must not survive).
        const kept = Object.fromEntries(Object.entries(held).filter(([key]) => !REPLACED_MEMBERS.has(key)));
        const secret = replaceOptions?.newSecret ? randomBytes(32).toString('base64url') : undefined;
        const body = { ...kept, ...metadataBody(metadata), software_id: options.softwareId, client_id: clientId, ...(secret === undefined ? {} : { client_secret: secret }) };
        const answer = oneClient(await authorized(operation, url, { method: 'PUT', body }), clientId);
        const parsed = clientSchema.safeParse(answer);
        if (!parsed.success) throw new Trouble('malformed client in answer', 200, { cause: parsed.error });
        const { client_id: _id, issuedAt: _issued, ...now } = toInventoryClient(parsed.data);
        return { ...now, ...(secret === undefined ? {} : { client_secret: secret }) };
      });
    },

    async list() {
      return http.guarded('list', async () => {
        const first = new URL('clients', base);
        first.searchParams.set('page_size', String(pageSize));
        const found = new Map<string, InventoryClient>();
        const seen = new Set<string>();
        for (let url: URL | undefined = first; url; ) {
          if (seen.size === maxPages) throw new Trouble(`client list runs past ${maxPages} pages`);
          if (seen.has(url.href)) throw new Trouble('client list pages loop');
          seen.add(url.href);
          const { clients, next } = await page(url);
          for (const client of clients) found.set(client.client_id, client);
          url = next;
        }
        return [...found.values()];
      });
    },

    async delete(clientId) {
      await http.guarded('delete', async () => {
        const url = clientUrl(clientId);
        const answer = await authorized('delete', url, { method: 'DELETE' });
        if (answer.status === 204 || answer.status === 200 || answer.status === 404) return;
        throw new Trouble(`IdP answered ${answer.status}`, answer.status);
      });
    },
  };
}

function toInventoryClient(client: ListedClient): InventoryClient {
  const issuedAt =
    client.client_id_issued_at != null ? new Date(client.client_id_issued_at * 1000) : client.created_at != null ? new Date(client.created_at) : undefined;
  return {
    client_id: client.client_id,
    client_name: client.client_name ?? '',
    grant_types: client.grant_types ?? [],
    redirect_uris: client.redirect_uris ?? [],
    scope: client.scope ?? '',
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? '',
    issuedAt,
  };
}

/** The target of the first link with relation type `next` in an RFC 8288 `Link` header. */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const match of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? '');
    const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (relations.includes('next')) return match[1];
  }
  return undefined;
}
