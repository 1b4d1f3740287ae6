/**
 * The tenant the gateway operator wrote into forward-auth's URL (`…/system/forward-auth?tenant=acme`),
 * found wherever the function is mounted and whatever the gateway appends:
 *
 * - **Path.** The function answers `/system/forward-auth`, its trailing-slash form and any path
 *   under it, behind any stage or base-path prefix (`/dev/system/forward-auth/`,
 *   `/iam/system/forward-auth/<client path>`: the HTTP API routes are `/system/forward-auth` and
 *   `/system/forward-auth/{proxy+}`). The query is read on every one of them: an operator's
 *   `tenant=` is never ignored because of where it was written.
 * - **Whose `tenant=`.** At `/system/forward-auth` (or `/`), the query is the operator's: nginx
 *   and Traefik send none of the client's, and Envoy's `path_prefix` ending in `?tenant=acme&`
 *   puts the client's path and query *after* the operator's part, so everything from the first
 *   parameter that starts with `/` (the client's path) on is the client's. Under a longer path
 *   (Envoy with a prefix without a query) the whole query is the client's. Either way every
 *   `tenant=` must name the same slug: a client can repeat the operator's tenant but never
 *   replace it (a different one is a 400); where the operator named none, a client's `tenant=`
 *   can only pick among the user's own tenants (membership is checked like any named tenant).
 * - **Understood or refused.** A `tenant` that is empty, not a slug, given twice with different
 *   values, or a parameter name with malformed percent-encoding (which might spell `tenant`) is a
 *   400 problem; so is any other parameter in the operator's part (a typo such as `?tenat=acme`
 *   would otherwise leave a single-tenant site open to every tenant). The client's other
 *   parameters are not read.
 */
import { BadRequestError } from '../errors.js';
import * as z from '../schema.js';
import { tenantSlug } from './named-tenant.js';

const MOUNT = '/system/forward-auth';

/** Whether the path is forward-auth's own URL (after any prefix), not a client path appended to it. */
export function isAuthUrlItself(rawPath: string): boolean {
  const path = rawPath.endsWith('/') && rawPath.length > 1 ? rawPath.slice(0, -1) : rawPath;
  return path === MOUNT || path.endsWith(MOUNT);
}

function formDecode(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new BadRequestError(`The auth URL's query has malformed percent-encoding in ${what}.`, [{ path: 'query', message: 'malformed percent-encoding' }]);
  }
}

/** The tenant the auth URL names, if any; throws BadRequestError (400) for a query it cannot understand. */
export function operatorTenant(rawPath: string, rawQuery: string | undefined): string | undefined {
  let operatorPart = isAuthUrlItself(rawPath);
  let tenant: string | undefined;
  for (let part of (rawQuery ?? '').split('&')) {
    if (part.startsWith('/')) {
      // Envoy, after a prefix ending in `?tenant=…&`: the client's path, then `?` and its first parameter.
      operatorPart = false;
      const query = part.indexOf('?');
      part = query < 0 ? '' : part.slice(query + 1);
    }
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const name = formDecode(rawName, 'a parameter name');
    if (name !== 'tenant') {
      if (operatorPart) {
        throw new BadRequestError(`The auth URL's query may only name a tenant (?tenant=<slug>), not "${name.slice(0, 64)}".`, [
          { path: `query.${name.slice(0, 64)}`, message: 'unknown parameter' },
        ]);
      }
      continue;
    }
    const value = formDecode(eq < 0 ? '' : part.slice(eq + 1), 'tenant');
    const parsed = z.safeParse(tenantSlug, value);
    if (!parsed.success) throw new BadRequestError('The auth URL names a tenant that is not a tenant slug ([a-z0-9-]{2,63}).', [{ path: 'query.tenant', message: 'must be a tenant slug ([a-z0-9-]{2,63})' }]);
    if (tenant !== undefined && tenant !== parsed.data) {
      throw new BadRequestError('The auth URL names two different tenants.', [{ path: 'query.tenant', message: 'given twice with different values' }]);
    }
    tenant = parsed.data;
  }
  return tenant;
}
